import ArgumentParser
import Foundation

/// The `main` of an executable with subcommands (`sluice`, `sluice-dlq`): like
/// ArgumentParser's own, except that a usage error raised while a subcommand runs (a
/// `ValidationError` from resolving its options and config) prints that subcommand's usage
/// rather than the root's, as an error raised while parsing does.
///
/// Invariant: exit codes are ArgumentParser's (0, 1 for a failure, 64 for bad usage).
///
/// ```swift
/// @main struct Sluice: AsyncParsableCommand {
///     static func main() async { await CommandLineMain.run(Sluice.self) }
/// }
/// ```
public enum CommandLineMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type, arguments: [String]? = nil) async -> Never {
        let command: any ParsableCommand
        do { command = try root.parseAsRoot(arguments) } catch { root.exit(withError: error) }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                var synchronous = command
                try synchronous.run()
            }
            root.exit()
        } catch let error as ValidationError {
            let name = path(from: root, to: type(of: command))?.joined(separator: " ") ?? commandName(root)
            FileHandle.standardError.write(Data("""
                Error: \(error.message)
                Usage: \(root.usageString(for: type(of: command)).trimmingCharacters(in: .whitespacesAndNewlines))
                  See '\(name) --help' for more information.

                """.utf8))
            root.exit(withError: ExitCode.validationFailure)
        } catch {
            root.exit(withError: error)
        }
    }

    /// The command names from `root` down to `target` (`["sluice", "endpoints", "list"]`).
    static func path(from root: any ParsableCommand.Type, to target: any ParsableCommand.Type) -> [String]? {
        if root == target { return [commandName(root)] }
        for sub in root.configuration.subcommands {
            if let rest = path(from: sub, to: target) { return [commandName(root)] + rest }
        }
        return nil
    }

    static func commandName(_ command: any ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }
}
