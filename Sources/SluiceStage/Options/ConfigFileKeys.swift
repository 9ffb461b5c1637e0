import ArgumentParser
import Foundation
import SluiceCore
import Yams

/// The keys a config file may hold; a typo must not fall back to a default silently.
enum ConfigFileKeys {
    /// Every key read from the file: the stage's and the delivery contract's, dotted as the
    /// file nests them. Anything under `librdkafka:` goes to librdkafka as it is.
    static let known = Set(StageSettings.keys + DeliverySettings.keys)

    /// Refuses a file with keys nobody reads, naming each (and the known key it is closest
    /// to, for a typo).
    static func check(path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let document = try? Yams.load(yaml: text) as? [String: Any]
        else { return }  // unreadable or not a mapping: the file provider said so already
        let unknown = unknownKeys(in: document)
        guard !unknown.isEmpty else { return }
        let named = unknown.map { key in closest(to: key).map { "`\(key)` (did you mean `\($0)`?)" } ?? "`\(key)`" }
        throw ValidationError(
            "the config file \(path) has \(unknown.count == 1 ? "an unknown key" : "unknown keys"): \(named.joined(separator: ", ")); "
                + "known keys: \(known.sorted().joined(separator: ", ")), and librdkafka properties under `librdkafka:`")
    }

    /// The dotted keys of `document` that are not ``known``, in file order where it has one.
    static func unknownKeys(in document: [String: Any], prefix: String = "") -> [String] {
        var unknown: [String] = []
        for (key, value) in document.sorted(by: { $0.key < $1.key }) {
            let dotted = prefix + key
            if dotted == "librdkafka" { continue }
            if let nested = value as? [String: Any], !known.contains(dotted) {
                unknown += unknownKeys(in: nested, prefix: dotted + ".")
            } else if !known.contains(dotted) {
                unknown.append(dotted)
            }
        }
        return unknown
    }

    /// The known key within two edits of `key`, if there is one.
    static func closest(to key: String) -> String? {
        var best: (key: String, distance: Int)?
        for candidate in known.sorted() {
            let d = distance(key, candidate)
            if d <= 2, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.key
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in 1...b.count {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}
