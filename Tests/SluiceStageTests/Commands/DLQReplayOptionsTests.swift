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
}
