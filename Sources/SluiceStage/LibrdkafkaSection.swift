import Foundation
import Yams

/// The `librdkafka:` section of a config file: raw properties passed to every client.
///
/// ```yaml
/// librdkafka:
///   fetch.wait.max.ms: 10
///   linger.ms: 1
/// ```
enum LibrdkafkaSection {
    static func read(configPath: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8),
            let root = try Yams.load(yaml: text) as? [String: Any],
            let section = root["librdkafka"]
        else { return [:] }
        guard let map = section as? [String: Any] else {
            throw ValidationError("\(configPath): `librdkafka` must be a map of property: value")
        }
        return map.mapValues { "\($0)" }
    }
}

import ArgumentParser
