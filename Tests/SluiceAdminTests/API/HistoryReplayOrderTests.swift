import Foundation
import SluiceCore
import SluiceStage
import Testing

@testable import SluiceAdmin

/// The checks of `POST /v1/endpoints/{id}/replay`'s body: the CLI's rules, the API's words.
@Suite("history replay request validation")
struct HistoryReplayOrderTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func order(_ body: Components.Schemas.HistoryReplayRequest) throws(APIProblem) -> HistoryReplayOrder {
        try HistoryReplayOrder(body, endpointID: "ep_1", now: now)
    }

    func refusal(_ body: Components.Schemas.HistoryReplayRequest) -> APIProblem? {
        do { _ = try order(body) } catch { return error }
        return nil
    }

    @Test("defaults: until now, every type of the endpoint's filter, rate 500, not only missing, not a dry run")
    func defaults() throws {
        let made = try order(.init(since: "2h"))
        #expect(made.request.window.since == now.addingTimeInterval(-7200))
        #expect(made.request.window.until == now)
        #expect(made.request.types == nil && !made.request.onlyMissing)
        #expect(made.rate == 500 && !made.dryRun)
        #expect(made.request.replayID.hasPrefix("hr_"))
    }

    @Test("the replay id is the CLI's for the same request (types joined as --types takes them), and replay_id names it instead")
    func sameReplayIDAsCLI() throws {
        let api = try order(.init(since: "2h", types: ["order.*", "invoice.paid"], onlyMissing: true))
        let cli = try HistoryReplayRequest(endpointID: "ep_1", since: "2h", until: nil, types: "order.*,invoice.paid", onlyMissing: true, now: now)
        #expect(api.request == cli)
        #expect(try order(.init(since: "2h")).request.replayID != api.request.replayID)
        #expect(try order(.init(since: "2h", replayId: "backfill-1")).request.replayID == "backfill-1")
        #expect(try order(.init(since: "2h", types: ["order.*"], dryRun: true, rate: 0.5)).rate == 0.5)
    }

    @Test("every refusal is a 4xx that names the field and says what to send", arguments: [
        (Components.Schemas.HistoryReplayRequest(since: "yesterday-ish"), "since 'yesterday-ish' is not a time"),
        (.init(since: ""), "since takes 1…64 characters"),
        (.init(since: String(repeating: "1", count: 65)), "since takes 1…64 characters"),
        (.init(since: "1h", until: "2h"), "must be after since"),
        (.init(since: "1h", until: "soon"), "until 'soon' is not a time"),
        (.init(since: "2099-01-01T00:00:00Z"), "is in the future"),
        (.init(since: "99999999999999999999"), "is not a time"),
        (.init(since: "999999999999d"), "is not a time"),
        (.init(since: "1h", types: []), "types takes 1…256 patterns"),
        (.init(since: "1h", types: ["order.*,invoice.*"]), "without commas"),
        (.init(since: "1h", types: [""]), "without commas"),
        (.init(since: "1h", types: Array(repeating: "a", count: 257)), "types takes 1…256 patterns"),
        (.init(since: "1h", types: ["order.*.x*"]), "types: "),
        (.init(since: "1h", rate: 0), "rate 0.0 is out of range"),
        (.init(since: "1h", rate: 2_000_000), "is out of range"),
        (.init(since: "1h", rate: -1), "is out of range"),
        (.init(since: "1h", replayId: "no spaces"), "replay_id 'no spaces' must be 1-64"),
        (.init(since: "1h", replayId: String(repeating: "r", count: 65)), "must be 1-64"),
    ])
    func refusals(body: Components.Schemas.HistoryReplayRequest, says: String) throws {
        let problem = try #require(refusal(body), "refused")
        #expect(problem.status == 422, "\(problem)")
        #expect(problem.detail.contains(says), "\(problem.detail)")
        #expect(!problem.detail.contains("--"), "API words, not CLI flags: \(problem.detail)")
    }

    @Test("the shared rules' other refusals keep their statuses: a missing endpoint 404, a disabled one 409, a window past retention 422")
    func otherProblems() {
        #expect(HistoryReplayOrder.problem(.unknownEndpoint("ep_x")).status == 404)
        let disabled = HistoryReplayOrder.problem(.endpointDisabled("ep_x", reason: "gone"))
        #expect(disabled.status == 409 && disabled.detail.contains("POST /v1/endpoints/ep_x/enable") && disabled.detail.contains("dry_run"))
        let old = HistoryReplayOrder.problem(
            .windowOutsideRetention(until: now.addingTimeInterval(-30 * 86_400), keptFrom: now.addingTimeInterval(-7 * 86_400), topic: "sluice.events", retention: .seconds(7 * 86_400)))
        #expect(old.status == 422 && old.detail.contains("retention 7d") && old.detail.contains("/v1/dead-letters"))
    }
}
