import Testing

@testable import SluiceStage

@Suite("Open-files limit")
struct OpenFilesLimitTests {
    @Test("the soft limit is raised to what is needed, never past the hard limit, and never lowered")
    func raises() throws {
        let before = try #require(OpenFilesLimit.raise(toAtLeast: 0))
        let same = try #require(OpenFilesLimit.raise(toAtLeast: 1))
        #expect(same.soft == before.soft, "a smaller need leaves the limit as it is")
        let capped = try #require(OpenFilesLimit.raise(toAtLeast: Int.max))
        #expect(capped.soft == capped.hard && capped.hard == before.hard, "raised as far as the hard limit allows")
    }
}
