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
    @usableFromInline let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// Inlinable, so each caller in another module gets it specialised for its types: the
    /// generic entry point looked up type metadata at run time on every call (measured in
    /// dispatch's profile, where locks are taken several times per delivery).
    @inlinable
    public func withLock<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
        try mutex.withLock(body)
    }
}
