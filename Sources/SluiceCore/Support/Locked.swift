import Synchronization

/// A value behind a lock, shared by reference (a `Mutex` itself cannot be captured or
/// passed around).
///
/// Invariant: the value is only reached inside `withLock`; keep the closure short and
/// never await or call out to unknown code inside it.
///
/// ```swift
/// let counter = Locked(0)
/// counter.withLock { $0 += 1 }
/// ```
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public func withLock<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
        try mutex.withLock(body)
    }
}
