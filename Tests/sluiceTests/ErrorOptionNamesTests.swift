import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// Every `--option` an error message tells the operator to use exists: the messages are
/// collected from the sources (the arguments of `…Error(…)`) and from the configuration
/// errors of every key, and each option they name is checked against the options the
/// executables really take (their `--experimental-dump-help`).
@Suite("Options named in error messages exist")
struct ErrorOptionNamesTests {
    static let executables = ["sluice", "sluice-fanout", "sluice-dispatch", "sluice-retry", "sluice-dlq", "sluice-admin"]

    /// The long option names of every command and subcommand of the executables.
    static func realOptions() throws -> Set<String> {
        var names: Set<String> = []
        func collect(_ command: [String: Any]) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    if let text = name["name"] as? String { names.insert(text) }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { collect(sub) }
        }
        for executable in executables {
            let dump = try runCommand([executablePath(executable), "--experimental-dump-help"], timeout: .seconds(30))
            let json = try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any]
            collect(try #require(json?["command"] as? [String: Any], "\(executable): \(dump.output.prefix(300))"))
        }
        return names
    }

    /// `--name`s inside the string literals of error texts in Sources, with where they are:
    /// lines that construct an error (`SomethingError(`, `expected:`), throw, or return a
    /// text (an error's `description`), and the lines continuing them.
    static func optionsInErrorTexts() throws -> [(option: String, place: String)] {
        let sources = TestBroker.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        // An error constructed, an error's text returned (its `description`), a throw.
        let starts = try Regex(#"[A-Z][A-Za-z]*Error\(|expected: "|return "|throw "#)
        let literal = try Regex(#""((?:[^"\\]|\\.)*)""#)
        let option = try Regex(#"(?:^|[^A-Za-z0-9-])--([a-z][a-z0-9-]*)"#)
        var found: [(String, String)] = []
        for file in files {
            let lines = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
            var inError = false
            for (n, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if line.contains(starts) {
                    inError = true
                } else if inError, !(trimmed.hasPrefix("+") || trimmed.hasPrefix("\"") || trimmed.hasPrefix("expected:")) {
                    inError = false
                }
                guard inError else { continue }
                for text in line.matches(of: literal) {
                    for match in String(text.output[1].substring ?? "").matches(of: option) {
                        found.append((String(match.output[1].substring ?? ""), "\(file):\(n + 1)"))
                    }
                }
                if trimmed.hasSuffix(")") || trimmed.hasSuffix("}") { inError = false }
            }
        }
        return found
    }

    @Test("options named in the error texts of the sources exist")
    func sourceErrorTexts() throws {
        let real = try Self.realOptions()
        #expect(real.contains("brokers") && real.contains("dry-run") && real.contains("tier"), "the dump found the options: \(real.sorted())")
        let named = try Self.optionsInErrorTexts()
        #expect(named.count >= 10, "the scan found the error texts: \(named.map(\.option))")
        for (option, place) in named {
            #expect(real.contains(option), "--\(option) in the error at \(place) is not an option of any executable")
        }
    }

    @Test("configuration errors name a flag only for keys that have one")
    func configErrorTexts() throws {
        let real = try Self.realOptions()
        let option = try Regex(#"--([a-z][a-z0-9-]*)"#)
        for key in StageSettings.keys + DeliverySettings.keys {
            let text = ConfigError(key: key, value: "x", expected: "y").description
            #expect(text.contains("SLUICE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")), "\(text)")
            for match in text.matches(of: option) {
                let name = String(match.output[1].substring ?? "")
                #expect(real.contains(name), "\(key): the message names --\(name), which is not an option: \(text)")
            }
        }
        // The ones the issue found.
        for key in ["retry.schedule", "retry.tiers", "master.key", "allow.private"] {
            #expect(!ConfigError(key: key, value: "x", expected: "y").description.contains("--"))
        }
        #expect(ConfigError(key: "metrics.port", value: "x", expected: "y").description.contains("--metrics-port, SLUICE_METRICS_PORT, or `metrics.port`"))
    }
}
