import Foundation
import SluiceCore
import SluiceStage

/// `POST /v1/dead-letters/replay` and `GET /v1/tasks/{id}`: the replay of `sluice dlq replay`
/// (``DeadLetterReplayJob``, the same implementation), run as a task whose progress the
/// second route reports.
extension AdminAPI {
    func replayDeadLetters(_ input: Operations.ReplayDeadLetters.Input) async throws -> Operations.ReplayDeadLetters.Output {
        let scope = try AccessScope.required()
        var body = Components.Schemas.ReplayRequest()
        if case .json(let given)? = input.body { body = given }
        let tenant: String?
        switch scope {
        case .admin: tenant = body.tenant
        case .tenant(let own):
            guard body.tenant == nil || body.tenant == own else {
                throw APIProblem.unprocessable("this key replays tenant \(own)'s dead letters only; leave \"tenant\" out")
            }
            tenant = own
        }
        let filter = DeadLetterFilter(
            endpointID: body.endpointId, tenant: tenant, eventType: body._type, eventID: body.eventId, since: body.since, until: body.until)
        try Self.checkWindow(since: filter.since, until: filter.until)
        let named = [body.endpointId, body.tenant, body._type, body.eventId].contains { $0 != nil } || body.since != nil || body.until != nil
        let (all, dryRun) = (body.all ?? false, body.dryRun ?? false)
        if all, named { throw APIProblem.unprocessable("\"all\" replays every dead letter; leave out the filters or drop \"all\"") }
        if !all, !dryRun, !named {
            throw APIProblem.unprocessable(
                "no filter: this would replay every dead letter\(tenant.map { " of tenant \($0)" } ?? ""). Narrow it (endpoint_id, tenant, type, event_id, since, until), look first with \"dry_run\": true, or set \"all\": true")
        }
        if let rate = body.rate, !DeadLetterReplay.rates.contains(rate) {
            throw APIProblem.unprocessable("rate \(rate) is out of range: give deliveries per second between 0.001 and 1000000 (as sluice dlq replay --rate)")
        }
        if let id = body.replayId, id.isEmpty || id.utf8.count > 64 || id.contains(where: { !($0.isLetter || $0.isNumber || "_.-".contains($0)) }) {
            throw APIProblem.unprocessable("replay_id takes 1…64 letters, digits, '_', '.' or '-'")
        }
        let replayID = body.replayId ?? DeadLetterReplayJob.replayID(for: filter)
        let task = deps.tasks.start(tenant: tenant, replayID: replayID, dryRun: dryRun)
        let (job, tasks, logger, rate) = (deps.replays, deps.tasks, deps.logger, body.rate)
        Task.detached {
            do {
                let prepared = try await job.prepare(filter: filter, replayID: replayID, rate: rate, dryRun: dryRun)
                let plan = prepared.plan
                tasks.update(task.id) { entry in
                    entry.progress.matched = plan.matched
                    entry.progress.toSend = plan.toSend.count
                    entry.progress.alreadySent = plan.alreadySent
                    entry.progress.endpointUnavailable = plan.endpointUnavailable.values.reduce(0, +)
                }
                if !dryRun {
                    _ = try await job.send(prepared) { progress in tasks.update(task.id) { $0.progress.sent = progress.sent } }
                }
                tasks.finish(task.id)
                logger.info("dead-letter replay finished", metadata: ["task": "\(task.id)", "replay": "\(replayID)", "dry_run": "\(dryRun)"])
            } catch {
                logger.warning("dead-letter replay failed", metadata: ["task": "\(task.id)", "replay": "\(replayID)", "error": "\(error)"])
                tasks.finish(task.id, error: "\(error); start it again with the same filters (replay \(replayID)): it sends only what did not go yet")
            }
        }
        return .accepted(.init(body: .json(.init(task))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        let scope = try AccessScope.required()
        guard let entry = deps.tasks.entry(input.path.taskId, scope: scope) else {
            throw APIProblem.notFound("no task \(input.path.taskId) on this server (tasks live in the server that started them, until it restarts)")
        }
        return .ok(.init(body: .json(.init(entry))))
    }
}

extension Components.Schemas.Task {
    init(_ e: TaskBoard.Entry) {
        let p = e.progress
        self.init(
            id: e.id, kind: .init(rawValue: e.kind.rawValue) ?? .deadLetterReplay, endpointId: e.endpointID, state: .init(rawValue: e.state.rawValue) ?? .running,
            createdAt: e.createdAt, finishedAt: e.finishedAt, error: e.error, summary: e.summary, note: e.note, replayId: e.replayID, dryRun: e.dryRun,
            progress: .init(
                matched: p.matched, toSend: p.toSend, sent: p.sent, alreadySent: p.alreadySent, endpointUnavailable: p.endpointUnavailable,
                read: p.read, alreadyDelivered: p.alreadyDelivered, tooLarge: p.tooLarge))
    }
}
