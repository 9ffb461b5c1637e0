import ArgumentParser
import Testing

@testable import SluiceStage

@Suite("sluice dlq replay: what it needs to be told")
struct DLQReplayOptionsTests {
    @Test("without a filter it asks for --all (a dry run needs none); --all with a filter is refused")
    func allIsExplicit() throws {
        #expect { try DLQCommand.Replay.parse([]) } throws: { error in
            let message = DLQCommand.Replay.message(for: error)
            return message.contains("--all") && message.contains("--dry-run") && message.contains("--endpoint")
        }
        _ = try DLQCommand.Replay.parse(["--all"])
        _ = try DLQCommand.Replay.parse(["--dry-run"])
        _ = try DLQCommand.Replay.parse(["--endpoint", "ep_1"])
        #expect { try DLQCommand.Replay.parse(["--all", "--tenant", "acme"]) } throws: { error in
            DLQCommand.Replay.message(for: error).contains("tenant=acme")
        }
    }

    @Test("a rate outside 0.001…1,000,000 per second is refused, not clamped")
    func rateRange() throws {
        for bad in ["0", "-5", "nan", "inf", "1e300", "0.0001"] {
            #expect(throws: (any Error).self, "--rate \(bad)") { try DLQCommand.Replay.parse(["--all", "--rate", bad]) }
        }
        #expect { try DLQCommand.Replay.parse(["--all", "--rate", "1e9"]) } throws: { error in
            DLQCommand.Replay.message(for: error).contains("between 0.001 and 1000000")
        }
        #expect(try DLQCommand.Replay.parse(["--all", "--rate", "0.5"]).rate == 0.5)
        #expect(try DLQCommand.Replay.parse(["--all", "--rate", "1000000"]).rate == 1_000_000)
    }
}
