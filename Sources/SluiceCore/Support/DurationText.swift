/// Durations as operators write them: `250ms`, `30s`, `10m`, `6h`, `7d`, or a sum of such
/// parts (`1h30m`).
///
/// ```swift
/// DurationText.parse("1h30m")   // .seconds(5400)
/// DurationText.format(.seconds(600))   // "10m"
/// ```
public enum DurationText {
    /// The longest duration accepted (100 years): longer is a typo, and every later
    /// conversion of it stays far from `Int64`'s bounds.
    public static let maxMilliseconds: Int64 = 100 * 365 * 86_400_000

    /// The duration `text` denotes, or nil when it is not of that form or longer than
    /// ``maxMilliseconds``.
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var totalMs: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) })
            else { return nil }
            rest = rest.dropFirst(unit.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            guard !overflow, product <= maxMilliseconds - totalMs else { return nil }
            totalMs += product
        }
        return .milliseconds(totalMs)
    }

    /// The shortest text for `duration` in whole units (`90s` → `"90s"`, 600 s → `"10m"`).
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (unit, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms != 0 && ms % factor == 0 {
            return "\(ms / factor)\(unit)"
        }
        return "\(ms)ms"
    }
}

import Foundation
