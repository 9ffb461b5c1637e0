import Foundation

/// The fast path of the most written and read record: fanout writes one per endpoint per
/// event, dispatch reads each and writes it again, with its history, for every retry.
extension Delivery {
    public static func flatRecord(_ object: FlatJSONObject) -> Delivery? {
        guard object.hasOnly(knownKeys),
            case .some(let history) = object.optional("history", { object.objects($0).flatMap(historyRecords) }),
            let eventID = object.text("event_id"), let endpointID = object.text("endpoint_id"),
            let tenant = object.text("tenant"), let eventType = object.text("event_type"),
            let attempt = object.integer("attempt"), let notBefore = object.milliseconds("not_before"),
            let body = object.text("body"), let createdAt = object.milliseconds("created_at"),
            case .some(let firstAttemptAt) = object.optional("first_attempt_at", object.milliseconds),
            case .some(let replayID) = object.optional("replay_id", object.text),
            case .some(let passes) = object.optional("passes", object.integer)
        else { return nil }
        return Delivery(
            eventID: eventID, endpointID: endpointID, tenant: tenant, eventType: eventType, attempt: attempt,
            firstAttemptAt: firstAttemptAt, notBefore: notBefore, replayID: replayID, body: Array(body.utf8),
            createdAt: createdAt, passes: passes ?? 0, history: history ?? [])
    }

    /// A history's entries as the Codable path reads them, or nil for anything it might
    /// read otherwise (an unknown key, an unknown error class: the general path decides).
    private static func historyRecords(_ objects: [FlatJSONObject]) -> [DeadLetter.AttemptSummary]? {
        var history: [DeadLetter.AttemptSummary] = []
        history.reserveCapacity(objects.count)
        for entry in objects {
            guard entry.hasOnly(DeadLetter.AttemptSummary.keys), let attempt = entry.integer("attempt"),
                let at = entry.milliseconds("at"), case .some(let status) = entry.optional("status", entry.integer),
                let errorClass = entry.text("error_class").flatMap(Attempt.ErrorClass.init(rawValue:))
            else { return nil }
            history.append(.init(attempt: attempt, at: at, status: status, errorClass: errorClass))
        }
        return history
    }

    public func flatWireBytes() -> [UInt8]? {
        guard extra.isEmpty else { return nil }
        let (head, tail) = flatParts()
        return JSONBytesWriter.joined(head, quoting: endpointID, tail)
    }

    /// The flat wire bytes before and after the endpoint id's value: the one place that
    /// writes the members and their order, for one delivery and for a fanout template.
    private func flatParts() -> (head: [UInt8], tail: [UInt8]) {
        var head = JSONBytesWriter(capacity: body.count + 96)
        head.member("attempt", attempt)
        // As the Codable path does: the body as text (invalid UTF-8 replaced).
        head.member("body", text: body)
        head.member("created_at", milliseconds: createdAt)
        head.key("endpoint_id")
        var tail = JSONBytesWriter(continuingWithCapacity: 224)
        tail.member("event_id", eventID)
        tail.member("event_type", eventType)
        if let firstAttemptAt { tail.member("first_attempt_at", milliseconds: firstAttemptAt) }
        if !history.isEmpty {
            tail.member("history", objects: history) { $1.writeFlat(into: &$0) }
        }
        tail.member("not_before", milliseconds: notBefore)
        if passes > 0 { tail.member("passes", passes) }
        if let replayID { tail.member("replay_id", replayID) }
        tail.member("tenant", tenant)
        tail.member("v", Self.version)
        return (head.bytes, tail.finish())
    }

    private init(
        eventID: String, endpointID: String, tenant: String, eventType: String, attempt: Int, firstAttemptAt: Date?,
        notBefore: Date, replayID: String?, body: [UInt8], createdAt: Date, passes: Int, history: [DeadLetter.AttemptSummary]
    ) {
        self.eventID = eventID
        self.endpointID = endpointID
        self.tenant = tenant
        self.eventType = eventType
        self.attempt = attempt
        self.firstAttemptAt = firstAttemptAt
        self.notBefore = notBefore
        self.replayID = replayID
        self.body = body
        self.createdAt = createdAt
        self.passes = passes
        self.history = history
    }
}

extension Delivery {
    /// The wire bytes of `event`'s new deliveries to each of `endpointIDs` at `now`, in
    /// order: what `Delivery(event:endpointID:now:).wireBytes()` gives for each, with the
    /// body escaped and the shared members written once (fanout writes one delivery per
    /// matching endpoint of every event).
    ///
    /// Throws as `wireBytes()` would for the first delivery that fails its bounds.
    public static func wireBytes(of event: Event, to endpointIDs: [String], now: Date) throws(WireError) -> [[UInt8]] {
        guard let first = endpointIDs.first else { return [] }
        let template = Delivery(event: event, endpointID: first, now: now)
        try template.validate()
        let (prefix, suffix) = template.flatParts()
        let check = WireCheck(kind: kind)
        var out: [[UInt8]] = []
        out.reserveCapacity(endpointIDs.count)
        for endpointID in endpointIDs {
            try check.id(endpointID, "endpoint_id")
            out.append(JSONBytesWriter.joined(prefix, quoting: endpointID, suffix))
        }
        return out
    }
}
