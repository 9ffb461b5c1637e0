import SluiceCore
import SluiceTestSupport
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

    @Test("a need past the hard limit is a warning that names the settings and what to do; a need within it says nothing")
    func warnsPastTheHardLimit() throws {
        let log = CapturedLog(level: .info)
        OpenFilesLimit.ensure(1, for: "--max-in-flight and --max-parked", logger: log.logger)
        #expect(log.lines.isEmpty)
        OpenFilesLimit.ensure(Int.max, for: "--max-in-flight and --max-parked", logger: log.logger)
        let warning = try #require(log.lines.first)
        #expect(warning.contains("below what --max-in-flight and --max-parked may open") && warning.contains("ulimit -n"), "\(warning)")
    }
}
