import Foundation

extension Delivery {
    /// How far ahead of this clock a `created_at` may be (other hosts' clocks drift).
    public static let clockSkew: TimeInterval = 3600

    /// When the delivery reaches `maxAge`, counted from its creation by fanout (or by a
    /// replay): past it, it goes to the DLQ with reason `max_age`, whatever path it is on.
    public func expiry(maxAge: Duration) -> Date { createdAt.addingTimeInterval(maxAge.timeInterval) }

    /// Whether it is past `maxAge` at `now`.
    public func isExpired(maxAge: Duration, now: Date) -> Bool { now >= expiry(maxAge: maxAge) }

    /// The checks that need a clock, beside ``validate()``: a delivery created more than
    /// ``clockSkew`` in the future was not written by a Sluice stage (its age could never
    /// run out), so it is refused.
    ///
    /// ```swift
    /// try delivery.validate(now: Date())
    /// ```
    public func validate(now: Date) throws(WireError) {
        guard createdAt.timeIntervalSince(now) <= Self.clockSkew else {
            throw WireError(kind: Self.kind, problem: "bad created_at: more than 1h in the future")
        }
    }
}
