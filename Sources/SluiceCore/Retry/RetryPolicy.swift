import Foundation

/// What one attempt produced, as the retry rules see it.
public enum AttemptResult: Sendable, Equatable {
    /// The endpoint answered with `status` (and maybe a `Retry-After` header).
    case response(status: Int, retryAfter: String?)
    /// No usable answer: timeout, connection refused, reset, TLS, a refused destination…
    case failure(Attempt.ErrorClass, message: String)

    var summary: String {
        switch self {
        case .response(let status, _): return "HTTP \(status)"
        case .failure(let errorClass, let message): return "\(errorClass.rawValue): \(message)"
        }
    }
}

/// What to do with a delivery after an attempt (brief §4).
public enum RetryDecision: Sendable, Equatable {
    /// A 2xx: done.
    case delivered
    /// Try again: write `next` (attempt + 1, its `notBefore` set) to `tier`.
    case retry(next: Delivery, tier: RetryTier)
    /// Stop: park it in the DLQ with this reason (`exhausted`, `max_age`).
    case deadLetter(reason: String, error: String)
    /// 410 Gone: disable the endpoint (and park the delivery in the DLQ).
    case disableEndpoint(reason: String)
}

/// Applies a ``RetrySchedule`` and the tiers to attempt results and deferrals.
///
/// The maximum age counts from the delivery's creation (`created_at`) on every path: a
/// retry or a deferral that would wait past it dead-letters the delivery (`max_age`)
/// instead. `Retry-After` (429, 503) is a floor on the schedule's wait, never a ceiling.
/// Deferrals (an open circuit, a busy or rate-limited endpoint) spend no attempt, but
/// after ``freeDeferrals`` each one waits twice as long as the last, from the smallest
/// tier's delay up to the largest's, so a delivery passes through the tiers at most
/// `attempts + freeDeferrals + log2(largest / smallest) + maxAge / largest` times.
///
/// Invariant: a retried delivery keeps its event id and body; its attempt number never
/// exceeds the schedule's length; its `notBefore` never passes creation + max age; every
/// write to a tier adds one to `passes`.
///
/// ```swift
/// let policy = RetryPolicy(schedule: .default, tiers: .nominal)
/// switch policy.decide(delivery, result: .response(status: 500, retryAfter: nil), now: Date()) { … }
/// ```
public struct RetryPolicy: Sendable {
    public var schedule: RetrySchedule
    public var tiers: RetryTiers
    /// Deferrals that wait only as long as asked; later ones back off.
    public static let freeDeferrals = 3

    public init(schedule: RetrySchedule = .default, tiers: RetryTiers = .nominal) {
        self.schedule = schedule
        self.tiers = tiers
    }

    /// The policy for `endpoint`: its own schedule when it has one (and it parses), else this one's.
    public func forEndpoint(_ endpoint: Endpoint) -> RetryPolicy {
        guard let text = endpoint.schedule, let own = try? RetrySchedule(parsing: text, maxAge: schedule.maxAge) else {
            return self
        }
        return RetryPolicy(schedule: own, tiers: tiers)
    }

    public func decide(_ delivery: Delivery, result: AttemptResult, now: Date) -> RetryDecision {
        var generator = SystemRandomNumberGenerator()
        return decide(delivery, result: result, now: now, using: &generator)
    }

    public func decide(
        _ delivery: Delivery, result: AttemptResult, now: Date, using generator: inout some RandomNumberGenerator
    ) -> RetryDecision {
        var requested: Duration?
        if case .failure(.refusedDestination, let message) = result {
            // The SSRF guard's refusals are final: trying again would be refused again.
            return .deadLetter(reason: "refused_destination", error: message)
        }
        if case .response(let status, let retryAfter) = result {
            if (200...299).contains(status) { return .delivered }
            if status == 410 { return .disableEndpoint(reason: "the endpoint answered 410 Gone") }
            if status == 429 || status == 503 { requested = RetryAfter.parse(retryAfter, now: now) }
        }
        guard delivery.attempt < schedule.maxAttempts else {
            return .deadLetter(reason: "exhausted", error: "\(result.summary) on attempt \(delivery.attempt) of \(schedule.maxAttempts)")
        }
        let remaining = delivery.expiry(maxAge: schedule.maxAge).timeIntervalSince(now)
        let scheduled = Self.jittered(schedule.wait(before: delivery.attempt + 1), using: &generator)
        guard remaining > 0, scheduled.timeInterval < remaining else {
            return .deadLetter(reason: "max_age", error: "\(result.summary); the next attempt would pass the \(DurationText.format(schedule.maxAge)) maximum age")
        }
        // Retry-After raises the wait, capped so the attempt still comes before the age
        // runs out (by 1 % of the max age, at least a second).
        let margin = min(remaining / 2, max(1, schedule.maxAge.timeInterval / 100))
        let wait = min(max(scheduled, requested ?? .zero), .wait(seconds: remaining - margin))
        var next = delivery
        next.attempt += 1
        next.firstAttemptAt = delivery.firstAttemptAt ?? now
        next.notBefore = now.addingTimeInterval(wait.timeInterval)
        next.passes += 1
        return .retry(next: next, tier: tiers.tier(for: wait))
    }

    /// What becomes of a delivery that is not attempted now.
    public enum Deferral: Sendable, Equatable {
        /// Write `next` (same attempt, `passes` + 1, due later) to `tier`.
        case wait(next: Delivery, tier: RetryTier)
        /// Waiting would pass the maximum age: to the DLQ (`max_age`).
        case expired(error: String)
    }

    /// Defers a delivery without spending an attempt (circuit open, over a concurrency
    /// or rate bound, not due): due after `wait`, or later once it has been deferred more
    /// than ``freeDeferrals`` times (see the type's doc).
    public func deferral(_ delivery: Delivery, wait: Duration, now: Date) -> Deferral {
        let deferrals = max(0, delivery.passes - (delivery.attempt - 1))
        var wait = wait
        if deferrals >= Self.freeDeferrals {
            let smallest = tiers.delay(of: .oneMinute), largest = tiers.delay(of: .oneHour)
            let doubling = min(deferrals - Self.freeDeferrals, 30)
            wait = max(wait, min(smallest * (1 << doubling), largest))
        }
        let expiry = delivery.expiry(maxAge: schedule.maxAge)
        guard now.addingTimeInterval(wait.timeInterval) < expiry else {
            return .expired(error: "deferred \(deferrals + 1) times without an attempt; the next wait would pass the \(DurationText.format(schedule.maxAge)) maximum age")
        }
        var next = delivery
        next.notBefore = now.addingTimeInterval(wait.timeInterval)
        next.passes += 1
        return .wait(next: next, tier: tiers.tier(for: wait))
    }

    /// Full jitter: uniform in `0...wait`.
    static func jittered(_ wait: Duration, using generator: inout some RandomNumberGenerator) -> Duration {
        guard wait > .zero else { return .zero }
        let ms = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: 0...ms, using: &generator))
    }
}
