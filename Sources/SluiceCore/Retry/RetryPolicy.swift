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

/// Applies a ``RetrySchedule`` and the tiers to attempt results.
///
/// Invariant: a retried delivery keeps its event id and body; its attempt number never
/// exceeds the schedule's length and its `notBefore` never passes first attempt + max age.
///
/// ```swift
/// let policy = RetryPolicy(schedule: .default, tiers: .nominal)
/// switch policy.decide(delivery, result: .response(status: 500, retryAfter: nil), now: Date()) { … }
/// ```
public struct RetryPolicy: Sendable {
    public var schedule: RetrySchedule
    public var tiers: RetryTiers

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
        let firstAttempt = delivery.firstAttemptAt ?? now
        let remaining = firstAttempt.addingTimeInterval(schedule.maxAge.timeInterval).timeIntervalSince(now)
        let wait = requested.map { min($0, .seconds(max(remaining, 0))) } ?? Self.jittered(schedule.wait(before: delivery.attempt + 1), using: &generator)
        guard remaining > 0, wait.timeInterval <= remaining else {
            return .deadLetter(reason: "max_age", error: "\(result.summary); the next attempt would pass the \(DurationText.format(schedule.maxAge)) maximum age")
        }
        var next = delivery
        next.attempt += 1
        next.firstAttemptAt = firstAttempt
        next.notBefore = now.addingTimeInterval(wait.timeInterval)
        return .retry(next: next, tier: tiers.tier(for: wait))
    }

    /// Defers a delivery without spending an attempt (circuit open, over a concurrency
    /// or rate bound): the same attempt, due after `wait`.
    public func deferral(_ delivery: Delivery, wait: Duration, now: Date) -> (next: Delivery, tier: RetryTier) {
        var next = delivery
        next.notBefore = now.addingTimeInterval(wait.timeInterval)
        return (next, tiers.tier(for: wait))
    }

    /// Full jitter: uniform in `0...wait`.
    static func jittered(_ wait: Duration, using generator: inout some RandomNumberGenerator) -> Duration {
        guard wait > .zero else { return .zero }
        let ms = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
        return .milliseconds(Int64.random(in: 0...ms, using: &generator))
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
