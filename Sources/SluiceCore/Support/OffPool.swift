import Dispatch

/// Runs blocking C calls (librdkafka, getaddrinfo) on a Dispatch queue, outside Swift's
/// cooperative pool, and awaits their result with their own error type.
///
/// ```swift
/// let target = try await OffPool.run { () throws(DestinationError) in try policy.resolve(url, resolver: resolver) }
/// ```
public enum OffPool {
    public static func run<T: Sendable, E: Error>(
        on queue: DispatchQueue = .global(), _ body: @escaping @Sendable () throws(E) -> T
    ) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) { continuation.resume(returning: .success(try body())) }
                catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}

/// Carries a value across a concurrency boundary whose safety its owner documents (a C
/// pointer used by one thread, or handed over once).
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
