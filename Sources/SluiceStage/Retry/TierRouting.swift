import Foundation
import SluiceCore
import SluiceKafka

/// What a retry tier does with the record at the head of a partition.
///
/// Invariant: a forwarded or moved record keeps its key, value and headers byte for
/// byte (unknown fields survive); only a record that cannot be read as a delivery is
/// rejected.
///
/// ```swift
/// let routing = TierRouting(tier: .oneMinute, tiers: tiers, prefix: "sluice.")
/// switch routing.route(record, now: Date()) { case .forward(let out): … }
/// ```
struct TierRouting: Sendable {
    enum Route: Sendable {
        /// Due: back to `sluice.deliveries`, `late` seconds after its `not_before`.
        case forward(KafkaProducerRecord, late: TimeInterval)
        /// Due later than this tier holds records for: to the tier that fits (or to the
        /// back of this one, when no larger tier fits).
        case move(KafkaProducerRecord, to: RetryTier)
        /// Not due yet: hold the partition until `until`.
        case hold(until: Date)
        /// Not a delivery: to `sluice.rejected` with the reason.
        case reject(KafkaProducerRecord, reason: String)
    }

    let tier: RetryTier
    let tiers: RetryTiers
    let prefix: String

    func route(_ record: KafkaRecord, now: Date) -> Route {
        let delivery: Delivery
        do {
            delivery = try Delivery(wireBytes: record.value ?? [])
        } catch {
            let detail = "not a delivery record: \(error)"
            return .reject(Rejection.record(of: record, topic: prefix + "rejected", code: "bad_delivery", detail: detail), reason: detail)
        }
        let remaining = delivery.notBefore.timeIntervalSince(now)
        if remaining <= 0 { return .forward(copy(record, to: prefix + "deliveries"), late: -remaining) }
        let ownDelay = tiers.delay(of: tier).timeInterval
        let fitting = tiers.tier(for: .milliseconds(Int64(remaining * 1000)))
        if fitting > tier { return .move(copy(record, to: prefix + fitting.topicSuffix), to: fitting) }
        if remaining > ownDelay {
            // Due later than this tier's delay, and no larger tier's delay fits (a wait
            // between this tier's delay and the next one's, or past the largest):
            // waiting at the head would hold up every record behind it, so it goes to the
            // back, marked to be looked at again one tier delay from now.
            if let revisit = Self.revisitTime(of: record), revisit > now { return .hold(until: revisit) }
            var again = copy(record, to: prefix + tier.topicSuffix)
            again.headers.removeAll { $0.key == Self.revisitHeader }
            let at = Int64((now.timeIntervalSince1970 + ownDelay) * 1000)
            again.headers.append(KafkaHeader(Self.revisitHeader, String(at)))
            return .move(again, to: tier)
        }
        return .hold(until: delivery.notBefore)
    }

    /// On a record sent round its tier again: when to look at it next (unix ms).
    static let revisitHeader = "sluice-revisit-at"

    static func revisitTime(of record: KafkaRecord) -> Date? {
        guard let text = record.headers[header: revisitHeader]?.stringValue, let ms = Int64(text) else { return nil }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    private func copy(_ record: KafkaRecord, to topic: String) -> KafkaProducerRecord {
        KafkaProducerRecord(topic: topic, key: record.key, value: record.value, headers: record.headers)
    }
}
