import Foundation

/// The fast path for writing a dead letter: dispatch writes one for every delivery it
/// gives up on (a dead endpoint's every delivery, once its retries run out), and the
/// Codable path wrote its delivery, read it back into a tree and wrote the tree again.
/// Reading stays on the Codable path (the DLQ stage and the admin API read dead letters;
/// the flat reader has no nested objects).
extension DeadLetter {
    public func flatWireBytes() -> [UInt8]? {
        guard extra.isEmpty, let delivery = delivery.flatWireBytes() else { return nil }
        var json = JSONBytesWriter(capacity: delivery.count + finalError.utf8.count + 96 * attempts.count + 128)
        json.member("attempts", objects: attempts) { $1.writeFlat(into: &$0) }
        json.member("dead_at", milliseconds: deadAt)
        json.member("delivery", json: delivery)
        json.member("final_error", finalError)
        json.member("reason", reason)
        json.member("v", Self.version)
        return json.finish()
    }
}

extension DeadLetter.AttemptSummary {
    /// The entry's members as the Codable path writes them (a delivery's history and a
    /// dead letter's attempts are both lists of these).
    func writeFlat(into json: inout JSONBytesWriter) {
        json.member("at", milliseconds: at)
        json.member("attempt", attempt)
        json.member("error_class", errorClass.rawValue)
        if let status { json.member("status", status) }
    }
}
