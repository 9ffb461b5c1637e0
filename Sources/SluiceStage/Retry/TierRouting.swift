import Foundation
import SluiceCore
import SluiceKafka

/// What a retry tier does with the record at the head of a partition.
///
/// A delivery is due at its `not_before` or when it reaches the maximum age (counted from
/// its `created_at`), whichever comes first: past its age it goes on to dispatch, which
/// parks it in the DLQ (`max_age`), so no `not_before` can keep it circling the tiers.
///
/// Invariant: a forwarded or moved record keeps its key, value and headers byte for
/// byte (unknown fields survive; only the revisit header is replaced); only a record that
/// cannot be read as a delivery, or that claims to be created in the future, is rejected.
/// The revisit header is honoured only within this tier's delay from now, so a forged one
/// cannot hold a partition.
///
/// ```swift
/// let routing = TierRouting(tier: .oneMinute, tiers: tiers, maxAge: .seconds(86_400), prefix: "sluice.")
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
    let maxAge: Duration
    let prefix: String

    func route(_ record: KafkaRecord, now: Date) -> Route {
        let delivery: Delivery
        do {
            delivery = try Delivery(wireBytes: record.value ?? [])
            try delivery.validate(now: now)
        } catch {
            let detail = "not a delivery record: \(error)"
            return .reject(Rejection.record(of: record, topic: prefix + "rejected", code: "bad_delivery", detail: detail), reason: detail)
        }
        let due = min(delivery.notBefore, delivery.expiry(maxAge: maxAge))
        let remaining = due.timeIntervalSince(now)
        if remaining <= 0 { return .forward(copy(record, to: prefix + "deliveries"), late: min(-remaining, 86_400)) }
        let ownDelay = tiers.delay(of: tier).timeInterval
        let fitting = tiers.tier(for: .wait(seconds: remaining))
        if fitting > tier { return .move(copy(record, to: prefix + fitting.topicSuffix), to: fitting) }
        if remaining > ownDelay {
            // Due later than this tier's delay, and no larger tier's delay fits (a wait
            // between this tier's delay and the next one's, or past the largest):
            // waiting at the head would hold up every record behind it, so it goes to the
            // back, marked to be looked at again one tier delay from now.
            if let revisit = Self.revisitTime(of: record), revisit > now, revisit.timeIntervalSince(now) <= ownDelay + 1 {
                return .hold(until: min(revisit, due))
            }
            var again = copy(record, to: prefix + tier.topicSuffix)
            again.headers.removeAll { $0.key == Self.revisitHeader }
            let at = Int64(((now.timeIntervalSince1970 + ownDelay) * 1000).rounded())
            again.headers.append(KafkaHeader(Self.revisitHeader, String(at)))
            return .move(again, to: tier)
        }
        return .hold(until: due)
    }

    /// On a record sent round its tier again: when to look at it next (unix ms).
    static let revisitHeader = "sluice-revisit-at"

    static func revisitTime(of record: KafkaRecord) -> Date? {
        guard let text = record.headers[header: revisitHeader]?.stringValue, let ms = Int64(text),
            WireCheck.timeWindow.contains(Double(ms) / 1000)
        else { return nil }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    private func copy(_ record: KafkaRecord, to topic: String) -> KafkaProducerRecord {
        KafkaProducerRecord(topic: topic, key: record.key, value: record.value, headers: record.headers)
    }
}
