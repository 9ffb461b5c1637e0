import Foundation
import SluiceCore
import Testing

@testable import SluiceAdmin

@Suite("task board")
struct TaskBoardTests {
    @Test("a history replay's task is its endpoint's tenant's: another tenant does not see it, an admin does")
    func scoped() {
        let board = TaskBoard()
        let task = board.start(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_1", dryRun: false)
        #expect(board.entry(task.id, scope: .tenant("acme"))?.kind == .historyReplay)
        #expect(board.entry(task.id, scope: .tenant("globex")) == nil)
        #expect(board.entry(task.id, scope: .admin)?.endpointID == "ep_1")
    }

    @Test("one running task per replay id sends; dry runs never conflict, and a finished replay may start again")
    func alone() {
        let board = TaskBoard()
        let first = board.startAlone(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_1", dryRun: false)
        #expect(first.isNew)
        let again = board.startAlone(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_1", dryRun: false)
        #expect(!again.isNew && again.entry.id == first.entry.id)
        #expect(board.startAlone(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_1", dryRun: true).isNew)
        #expect(board.startAlone(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_2", dryRun: false).isNew)
        board.finish(first.entry.id)
        #expect(board.startAlone(kind: .historyReplay, tenant: "acme", endpointID: "ep_1", replayID: "hr_1", dryRun: false).isNew)
    }
}
