import Foundation

/// A per-endpoint rate limit: `rate` requests per second with bursts of up to `burst`.
///
/// Invariant: 0 ≤ tokens ≤ burst; tokens refill continuously with time.
///
/// ```swift
/// var bucket = TokenBucket(rate: 10, burst: 10, now: now)
/// if let wait = bucket.take(now: now) { deferDelivery(by: wait) } else { post() }
/// ```
public struct TokenBucket: Sendable, Equatable {
    public let rate: Double
    public let burst: Double
    public private(set) var tokens: Double
    private var updated: Date

    public init(rate: Double, burst: Double? = nil, now: Date) {
        precondition(rate > 0)
        self.rate = rate
        self.burst = max(1, burst ?? rate)
        self.tokens = self.burst
        self.updated = now
    }

    /// Takes a token: nil when one was available, else how long until one is.
    public mutating func take(now: Date) -> Duration? {
        let elapsed = max(0, now.timeIntervalSince(updated))
        tokens = min(burst, tokens + elapsed * rate)
        updated = max(updated, now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return .milliseconds(Int64(((1 - tokens) / rate * 1000).rounded(.up)))
    }
}
