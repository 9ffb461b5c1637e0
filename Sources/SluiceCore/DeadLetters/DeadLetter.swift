import Foundation

/// A delivery that will not be attempted again, as parked in `sluice.dlq`.
///
/// Invariant: `delivery.attempt` is the last attempt made; `attempts` summarises every
/// attempt this build saw, oldest first.
public struct DeadLetter: WireRecord, Equatable {
    public static let kind = "dead-letter"
    public static let version = 1
    public static let knownKeys: Set<String> = ["delivery", "reason", "final_error", "attempts", "dead_at"]

    /// One line of the attempt history.
    public struct AttemptSummary: Codable, Sendable, Equatable {
        public var attempt: Int
        public var at: Date
        public var status: Int?
        public var errorClass: Attempt.ErrorClass
        public init(attempt: Int, at: Date, status: Int?, errorClass: Attempt.ErrorClass) {
            self.attempt = attempt
            self.at = at
            self.status = status
            self.errorClass = errorClass
        }
        enum CodingKeys: String, CodingKey, CaseIterable { case attempt, at, status, errorClass = "error_class" }
        /// The JSON keys of an entry.
        static let keys = Set(CodingKeys.allCases.map(\.rawValue))

        func validate(_ check: WireCheck) throws(WireError) {
            try check.number(attempt, "attempts.attempt", in: WireCheck.attempts)
            try check.time(at, "attempts.at")
            try check.status(status, "attempts.status")
        }
    }

    public var delivery: Delivery
    /// Why it stopped: `exhausted`, `max_age`, `endpoint_gone`, …
    public var reason: String
    public var finalError: String
    public var attempts: [AttemptSummary]
    public var deadAt: Date
    public var extra: [String: JSONValue] = [:]

    /// `finalError` is cut to ``WireCheck/maxTextBytes`` (it may quote a receiver).
    public init(delivery: Delivery, reason: String, finalError: String, attempts: [AttemptSummary], deadAt: Date) {
        self.delivery = delivery
        self.reason = reason
        self.finalError = finalError.truncated(toBytes: WireCheck.maxTextBytes)
        self.attempts = attempts
        self.deadAt = deadAt
    }

    enum CodingKeys: String, CodingKey {
        case delivery, reason, attempts
        case finalError = "final_error", deadAt = "dead_at"
    }

    // The delivery travels in its own wire form, so its unknown fields survive too.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let object = try c.decode(JSONValue.self, forKey: .delivery)
        do {
            delivery = try Delivery(wireBytes: Array(try WireCoding.encoder.encode(object)))
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .delivery, in: c, debugDescription: "\(error)")
        }
        reason = try c.decode(String.self, forKey: .reason)
        finalError = try c.decode(String.self, forKey: .finalError)
        attempts = try c.decode([AttemptSummary].self, forKey: .attempts)
        deadAt = try c.decode(Date.self, forKey: .deadAt)
    }

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try delivery.validate()
        try check.id(reason, "reason")
        try check.text(finalError, "final_error")
        try check.count(attempts.count, "attempts", max: WireCheck.attempts.upperBound)
        for summary in attempts { try summary.validate(check) }
        try check.time(deadAt, "dead_at")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(try JSONDecoder().decode(JSONValue.self, from: Data(try delivery.wireBytes())), forKey: .delivery)
        try c.encode(reason, forKey: .reason)
        try c.encode(finalError, forKey: .finalError)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(deadAt, forKey: .deadAt)
    }
}
