import Foundation
import SluiceTestSupport
import Testing

/// What the command lines show: each command lists only the options it uses, and a usage
/// error found while a subcommand runs prints that subcommand's usage.
@Suite("Command lines")
struct CommandLineTests {
    static let stageOnly: Set<String> = ["metrics-port", "instance-id"]

    /// Each command of `executable` (its path of names) with its long option names.
    static func commands(of executable: String) throws -> [(path: String, options: Set<String>)] {
        let dump = try runCommand([executablePath(executable), "--experimental-dump-help"], timeout: .seconds(30))
        let json = try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any]
        var found: [(String, Set<String>)] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let path = path + [command["commandName"] as? String ?? "?"]
            var names: Set<String> = []
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    if let text = name["name"] as? String { names.insert(text) }
                }
            }
            found.append((path.joined(separator: " "), names))
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path) }
        }
        walk(try #require(json?["command"] as? [String: Any], "\(executable): \(dump.output.prefix(300))"), [])
        return found
    }

    @Test("operator commands take the connection options but none only a stage uses; stages take both")
    func stageOnlyOptions() throws {
        let commands = try Self.commands(of: "sluice")
        let list = try #require(commands.first { $0.path == "sluice endpoints list" })
        #expect(list.options.isSuperset(of: ["brokers", "topic-prefix", "config", "log-level", "tenant"]))
        #expect(try #require(commands.first { $0.path == "sluice topology apply" }).options.contains("topology"))
        for (path, options) in commands where path != "sluice dlq watch" {
            #expect(options.isDisjoint(with: Self.stageOnly), "\(path) lists \(options.intersection(Self.stageOnly).sorted())")
        }
        for stage in ["sluice-fanout", "sluice-dispatch", "sluice-retry", "sluice-admin"] {
            let root = try #require(try Self.commands(of: stage).first)
            #expect(root.options.isSuperset(of: Self.stageOnly.union(["brokers", "topology"])), "\(stage): \(root.options.sorted())")
        }
        let watch = try #require(try Self.commands(of: "sluice-dlq").first { $0.path == "sluice-dlq watch" })
        #expect(watch.options.isSuperset(of: Self.stageOnly))
    }

    @Test("a usage error found while a subcommand runs shows that subcommand's usage, exit code 64")
    func subcommandUsage() throws {
        let result = try runCommand([executablePath("sluice"), "endpoints", "list", "--log-level", "loud"], timeout: .seconds(60))
        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("Error: log.level 'loud'") || result.output.contains("loud"), "\(result.output)")
        #expect(result.output.contains("Usage: sluice endpoints list"), "\(result.output)")
        #expect(result.output.contains("See 'sluice endpoints list --help'"), "\(result.output)")
        #expect(!result.output.contains("<subcommand>"), "the root's usage: \(result.output)")

        let dlq = try runCommand([executablePath("sluice-dlq"), "list", "--brokers", "nowhere"], timeout: .seconds(60))
        #expect(dlq.status == 64, "\(dlq.output)")
        #expect(dlq.output.contains("Usage: sluice-dlq list"), "\(dlq.output)")
    }

    @Test("dispatch's tuning flags refuse what they cannot take, saying what they take (exit code 64), before any broker is reached")
    func dispatchFlags() throws {
        for (flags, says) in [
            (["--outcome-linger", "soon"], "--outcome-linger takes a duration from 0ms to 5s such as 25ms, not 'soon'"),
            (["--outcome-linger", "6s"], "--outcome-linger takes a duration from 0ms to 5s"),
            (["--max-in-flight", "0"], "--max-in-flight takes a number ≥ 1"),
            (["--http-window", "lots"], "--http-window takes auto, a number or MIN-MAX"),
            (["--max-parked=-1"], "--max-parked takes a number ≥ 0"),
            (["--max-waiting=-5"], "--max-waiting takes a number ≥ 0"),
            (["--max-idle-connections=-1"], "--max-idle-connections takes a number ≥ 0"),
            (["--http-shards", "0"], "--http-shards takes a number from 1 to 64, not 0"),
        ] {
            let result = try runCommand([executablePath("sluice-dispatch"), "--brokers", "127.0.0.1:1"] + flags, timeout: .seconds(60))
            #expect(result.status == 64, "\(flags): \(result.output)")
            #expect(result.output.contains(says), "\(flags): \(result.output)")
        }
        let help = try runCommand([executablePath("sluice-dispatch"), "--help"], timeout: .seconds(30))
        #expect(help.output.contains("--outcome-linger <outcome-linger>") && help.output.contains("(default: 25ms)"), "\(help.output)")
        #expect(help.output.contains("--straggler-loop/--no-straggler-loop"), "\(help.output)")
    }

    @Test("a failure that is not a usage error prints no usage, exit code 1")
    func failureWithoutUsage() throws {
        let result = try runCommand([executablePath("sluice"), "endpoints", "get", "ep_none", "--brokers", "127.0.0.1:1"], timeout: .seconds(120))
        #expect(result.status == 1, "\(result.output)")
        #expect(!result.output.contains("Usage:"), "\(result.output)")
    }
}
