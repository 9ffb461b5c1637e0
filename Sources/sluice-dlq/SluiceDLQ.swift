import ArgumentParser
import SluiceStage

/// `sluice-dlq`: the dead-letter stage and its operator commands (also `sluice dlq …`).
@main
struct SluiceDLQ: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-dlq",
        abstract: "Watch, list, inspect and replay dead letters (sluice.dlq).",
        discussion: "Run `sluice-dlq watch` as the stage (consumer group sluice-dlq); the other commands are for operators.",
        subcommands: DLQCommand.subcommands)

    static func main() async { await CommandLineMain.run(SluiceDLQ.self) }
}
