import Foundation
import SluiceCore
import SluiceKafka

/// One thing that happened to a delivery or an endpoint, read from `sluice.attempts`,
/// `sluice.ops` or `sluice.dlq`, as an operator reads it: a compact line, or JSON.
///
/// Invariant: ``at`` is the time of the attempt, the ops event or the parking; ``text``
/// holds no secret (attempts and ops events carry none).
///
/// ```swift
/// if let line = ActivityLine(record) { print(line.text) }
/// // 2026-12-02T10:00:01.123Z attempt  ep_1  evt_9  #2  HTTP 500  312 ms  → retrying
/// ```
public struct ActivityLine: Sendable {
    public enum Kind: String, Sendable { case attempt, ops, deadLetter = "dead_letter" }

    public var kind: Kind
    public var at: Date
    public var endpointID: String
    public var tenant: String
    public var eventID: String?
    /// An attempt that did not deliver, an ops event, a dead letter.
    public var isFailure: Bool
    public var text: String
    /// The record as JSON: its own wire form, times as ISO 8601 text.
    public var json: String

    /// The line of `record`, or nil when the record is not one of those kinds.
    public init?(_ record: KafkaRecord) {
        guard let value = record.value else { return nil }
        if let attempt = try? Attempt(wireBytes: value) {
            let answer = attempt.status.map { "HTTP \($0)" } ?? attempt.errorClass.rawValue
            let error = attempt.errorClass == .none ? "" : "  " + (attempt.error ?? "").prefix(80)
            self.init(
                kind: .attempt, at: attempt.at, endpointID: attempt.endpointID, tenant: attempt.tenant, eventID: attempt.eventID,
                isFailure: attempt.outcome != .delivered,
                text: "attempt  \(attempt.endpointID)  \(attempt.eventID)  #\(attempt.attempt)  \(answer)  \(Int(attempt.latencyMs.rounded())) ms  → \(attempt.outcome.rawValue)\(error)",
                json: Self.text(try? attempt.readableJSON()))
        } else if let dead = try? DeadLetter(wireBytes: value) {
            self.init(
                kind: .deadLetter, at: dead.deadAt, endpointID: dead.delivery.endpointID, tenant: dead.delivery.tenant,
                eventID: dead.delivery.eventID, isFailure: true,
                text: "dead     \(dead.delivery.endpointID)  \(dead.delivery.eventID)  \(dead.reason)  after \(dead.attempts.count) attempts: \(dead.finalError.prefix(80))",
                json: Self.text(try? dead.readableJSON()))
        } else if var object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(value)),
            case .string(let kind) = object["kind"], case .string(let endpoint) = object["endpoint_id"]
        {
            var at = Date(timeIntervalSince1970: Double(record.timestampMs ?? 0) / 1000)
            if case .number(let ms) = object["at"], WireCheck.timeWindow.contains(ms / 1000) {
                at = Date(timeIntervalSince1970: ms / 1000)
                object["at"] = .string(TimeText.format(at))
            }
            let detail: String
            if case .string(let text) = object["detail"] { detail = text } else { detail = "" }
            let tenant: String
            if case .string(let text) = object["tenant"] { tenant = text } else { tenant = "" }
            self.init(
                kind: .ops, at: at, endpointID: endpoint, tenant: tenant, eventID: nil, isFailure: true,
                text: "\(kind.padding(toLength: max(8, kind.count), withPad: " ", startingAt: 0)) \(endpoint)  \(detail.prefix(120))", json: Self.text(object))
        } else {
            return nil
        }
    }

    init(kind: Kind, at: Date, endpointID: String, tenant: String, eventID: String?, isFailure: Bool, text: String, json: String) {
        self.kind = kind
        self.at = at
        self.endpointID = endpointID
        self.tenant = tenant
        self.eventID = eventID
        self.isFailure = isFailure
        self.text = text
        self.json = json
    }

    /// One line of JSON, keys sorted (`{}` for a record that cannot be shown).
    static func text(_ object: [String: JSONValue]?) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let object, let data = try? encoder.encode(object) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `2026-12-02T10:00:01.123Z attempt …`
    public var formatted: String { TimeText.format(at) + " " + text }
}

/// Which lines an operator asked for.
public struct ActivityFilter: Sendable {
    public var endpointID: String?
    public var eventID: String?
    public var tenant: String?
    public var failuresOnly = false

    public init(endpointID: String? = nil, eventID: String? = nil, tenant: String? = nil, failuresOnly: Bool = false) {
        self.endpointID = endpointID
        self.eventID = eventID
        self.tenant = tenant
        self.failuresOnly = failuresOnly
    }

    public func matches(_ line: ActivityLine) -> Bool {
        if let endpointID, line.endpointID != endpointID { return false }
        if let eventID, line.eventID != eventID { return false }
        if let tenant, line.tenant != tenant { return false }
        return !failuresOnly || line.isFailure
    }
}
