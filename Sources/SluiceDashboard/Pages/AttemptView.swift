import Foundation
import Hummingbird
import SluiceAdmin
import SluiceCore

/// The attempt log's filters, from the query string (`outcome`, `status`, `event`).
///
/// Invariant: an unknown outcome or status class is refused (400), never ignored.
struct AttemptLogFilter {
    var outcome: Attempt.Outcome?
    var statusClass: StatusClass?
    var eventID: String?

    init(_ query: some Sequence<(key: Substring, value: Substring)>) throws {
        for (key, value) in query where !value.isEmpty {
            let text = String(value)  // the router has percent-decoded it
            switch key {
            case "outcome":
                guard let outcome = Attempt.Outcome(rawValue: text) else { throw UIError.badRequest("outcome '\(text)' is not one of delivered, retrying, dead_lettered, endpoint_disabled, dropped") }
                self.outcome = outcome
            case "status":
                guard let statusClass = StatusClass(rawValue: text) else { throw UIError.badRequest("status '\(text)' is not one of 1xx…5xx, none") }
                self.statusClass = statusClass
            case "event":
                guard text.utf8.count <= 256 else { throw UIError.badRequest("the event id is longer than 256 bytes") }
                eventID = text
            default: continue
            }
        }
    }

    func attemptFilter(endpointID: String) -> AttemptFilter {
        AttemptFilter(endpointID: endpointID, eventID: eventID, outcome: outcome, statusClass: statusClass)
    }

    /// The filters as query parameters (to keep them in paging and drawer links).
    var parameters: [String: String?] { ["outcome": outcome?.rawValue, "status": statusClass?.rawValue, "event": eventID] }
}

/// How an attempt shows: a row of the log, and the drawer with its request and response.
enum AttemptView {
    static func row(_ stored: StoredAttempt) -> [String: Any] {
        let a = stored.attempt
        return [
            "id": stored.id, "at": Format.time(a.at), "eventID": a.eventID, "eventHref": URLText.event(a.eventID), "number": a.attempt,
            "status": a.status.map(String.init) ?? a.errorClass.rawValue, "statusClass": badge(a), "outcome": a.outcome.rawValue,
            "latency": Format.milliseconds(a.latencyMs), "error": a.error ?? "",
        ]
    }

    /// Green for 2xx, amber for 4xx, red for 5xx and no answer.
    static func badge(_ a: Attempt) -> String {
        guard let status = a.status else { return "bad" }
        switch status {
        case 200..<300: return "ok"
        case 400..<500: return "warn"
        default: return "bad"
        }
    }

    static func drawer(_ stored: StoredAttempt, endpoint: Endpoint) -> [String: Any] {
        let a = stored.attempt
        var headers: [(String, String)] = [
            ("content-type", "application/cloudevents+json"), ("user-agent", "Sluice/\(SluiceVersion.current)"),
            ("webhook-id", a.eventID), ("webhook-signature", "v1,… (not kept)"), ("webhook-timestamp", String(Int64(a.at.timeIntervalSince1970))),
        ]
        headers += endpoint.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        var out: [String: Any] = [
            "id": stored.id, "url": endpoint.url, "eventID": a.eventID, "eventHref": URLText.event(a.eventID), "number": a.attempt,
            "requestHeaders": headers.map { ["name": $0.0, "value": $0.1] },
            "status": a.status.map(String.init) ?? "no answer", "latency": Format.milliseconds(a.latencyMs), "outcome": a.outcome.rawValue,
            "errorClass": a.errorClass.rawValue, "excerpt": a.responseExcerpt ?? "(empty)",
        ]
        if let error = a.error { out["error"] = error }
        if let replay = a.replayID { out["replayID"] = replay }
        if let next = a.nextAttemptAt { out["nextAttempt"] = Format.time(next) }
        return out
    }
}
