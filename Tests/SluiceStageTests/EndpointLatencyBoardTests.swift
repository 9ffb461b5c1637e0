import Testing

@testable import SluiceStage

@Suite("Endpoint latency board")
struct EndpointLatencyBoardTests {
    @Test("the slowest endpoints by mean, at most `top`, then a fresh window; past capacity, attempts are counted, not tracked")
    func slowest() {
        var board = EndpointLatencyBoard(capacity: 3)
        for (endpoint, seconds) in [("fast", 0.01), ("slow", 3.0), ("slow", 1.0), ("mid", 0.5), ("extra", 9.0)] {
            board.record(endpoint, seconds: seconds)
        }
        #expect(board.untracked == 1, "a fourth endpoint is past capacity")
        let top = board.rotate(top: 2)
        #expect(top == [.init(endpoint: "slow", attempts: 2, meanSeconds: 2.0, maxSeconds: 3.0), .init(endpoint: "mid", attempts: 1, meanSeconds: 0.5, maxSeconds: 0.5)])
        #expect(board.rotate(top: 2).isEmpty && board.untracked == 0, "a new window")
        board.record("once", seconds: 5)
        board.record("twice", seconds: 1)
        board.record("twice", seconds: 1)
        #expect(board.rotate(top: 5, minimumAttempts: 2).map(\.endpoint) == ["twice"])
    }
}
