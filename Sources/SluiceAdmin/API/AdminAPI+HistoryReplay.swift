import Foundation
import Logging
import SluiceCore
import SluiceKafka
import SluiceStage

/// `POST /v1/endpoints/{id}/replay`: the history replay of `sluice events replay`
/// (``HistoryReplay``, the same implementation: ``EventHistory``, ``ReplayLedger``,
/// ``DeliveredEvents``, ``ReplaySender``), run as a task whose progress `GET /v1/tasks/{id}`
/// reports.
///
/// Invariant: the endpoint is looked up in the request's scope (another tenant's is a 404),
/// and the task belongs to the endpoint's tenant, so only that tenant's keys (and admin keys)
/// see it; the replay reads only that tenant's events (``HistoryReplayRequest/selects(_:publishedAt:endpoint:)``).
/// At most one task per replay id sends at a time in this server (a second would fence the
/// first's transactional producer).
extension AdminAPI {
    func replayEndpointHistory(_ input: Operations.ReplayEndpointHistory.Input) async throws -> Operations.ReplayEndpointHistory.Output {
        let scope = try AccessScope.required()
        let endpoint = try await existing(input.path.endpointId)
        guard case .json(let body) = input.body else { throw APIProblem.badRequest("send the replay as application/json, e.g. {\"since\": \"2h\"}") }
        let now = Date()
        let order = try HistoryReplayOrder(body, endpointID: endpoint.id, now: now)
        guard let makeProducer = deps.makeReplayProducer else {
            throw APIProblem.unavailable("this server was started without a producer for history replays; use `sluice events replay`")
        }
        if !order.dryRun, !endpoint.enabled {
            throw HistoryReplayOrder.problem(.endpointDisabled(endpoint.id, reason: endpoint.disabledReason))
        }
        var replay = HistoryReplay(request: order.request, endpoint: endpoint, prefix: deps.topicPrefix, rate: order.rate)
        replay.decoder = EventDecoder(maxBytes: deps.delivery.maxEventBytes)
        do { try replay.checkRetention(deps.eventsRetention, now: now) } catch { throw HistoryReplayOrder.problem(error) }

        let (task, isNew) = deps.tasks.startAlone(
            kind: .historyReplay, tenant: endpoint.tenant, endpointID: endpoint.id, replayID: order.request.replayID, dryRun: order.dryRun)
        guard isNew else {
            let follow = deps.tasks.entry(task.id, scope: scope).map { "; follow it with GET /v1/tasks/\($0.id)" } ?? ""
            throw APIProblem.conflict(
                "replay \(order.request.replayID) is already running\(follow). Starting it again once it has finished sends only what did not go; "
                    + "to send again what it sent, give a new replay_id")
        }
        let run = HistoryReplayTask(
            replay: replay, taskID: task.id, dryRun: order.dryRun, retention: deps.eventsRetention, now: now, reader: deps.reader,
            tasks: deps.tasks, logger: deps.logger, makeProducer: makeProducer, makePace: deps.makeReplayPace)
        Task.detached { await run.run() }
        return .accepted(.init(body: .json(.init(task))))
    }
}

/// One history replay run in the background of the admin API, reporting to its task on the
/// ``TaskBoard``: records read while it scans, then what it will send and skip, then what it
/// sent; the summary line `sluice events replay` prints when it ends, or why it failed.
///
/// Invariant: the task always ends (succeeded or failed), and the replay's producer is
/// closed on every path.
struct HistoryReplayTask: Sendable {
    let replay: HistoryReplay
    let taskID: String
    let dryRun: Bool
    let retention: Duration?
    let now: Date
    let reader: KafkaTopicReader
    let tasks: TaskBoard
    let logger: Logger
    let makeProducer: @Sendable (String) throws -> KafkaProducer
    let makePace: (@Sendable () throws -> ReplayPace)?

    func run() async {
        let (tasks, id) = (tasks, taskID)
        var producer: KafkaProducer?
        do {
            let started = ContinuousClock.now
            // Initialised before the plan: fences and aborts an interrupted run of this replay,
            // whose open transaction would otherwise hold back the reads.
            if !dryRun {
                let made = try makeProducer(replay.transactionalID)
                producer = made
                try await made.initTransactions()
            }
            let plan = try await replay.plan(reader: reader) { read in tasks.update(id) { $0.progress.read = read } }
            let note = replay.coverageNote(plan, retention: retention, now: now)
            tasks.update(id) { entry in
                entry.progress.read = plan.scan.read
                entry.progress.matched = plan.matched
                entry.progress.toSend = plan.toSend.count
                entry.progress.alreadySent = plan.alreadySent
                entry.progress.alreadyDelivered = plan.alreadyDelivered
                entry.progress.tooLarge = plan.scan.tooLarge
                entry.note = note
            }
            var sent: Int?
            if let producer {
                sent = plan.toSend.isEmpty ? 0 : try await ReplayPace.pacing(makePace) { pace in
                    try await replay.run(plan, producer: producer, pace: pace) { progress in tasks.update(id) { $0.progress.sent = progress.sent } }
                }
                try await producer.close()
            }
            let summary = replay.summary(plan, sent: sent, seconds: (ContinuousClock.now - started).timeInterval)
            tasks.update(id) { $0.summary = summary }
            tasks.finish(id)
            logger.info("history replay finished", metadata: ["task": "\(id)", "summary": "\(summary)"])
        } catch {
            try? await producer?.close()
            let replayID = replay.request.replayID
            logger.warning("history replay failed", metadata: ["task": "\(id)", "replay": "\(replayID)", "error": "\(error)"])
            tasks.finish(
                id, error: "\(error); start it again with the same request (replay \(replayID)): it sends only what did not go yet")
        }
    }
}
