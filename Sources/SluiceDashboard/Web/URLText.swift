import Foundation

/// Percent-encoding for the links the pages build from ids a producer or receiver chose
/// (event ids, endpoint ids, tenants): a path segment or a query value, so no id can
/// change a link's target; mustache then HTML-escapes the whole href.
///
/// ```swift
/// URLText.segment("a/b?c")   // "a%2Fb%3Fc"
/// URLText.link("/ui/endpoints/ep_1", ["outcome": "retrying", "event": nil])   // "/ui/endpoints/ep_1?outcome=retrying"
/// ```
enum URLText {
    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    static func segment(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }
    static func query(_ text: String) -> String { segment(text) }

    /// `path` with the non-nil, non-empty `parameters` (in key order).
    static func link(_ path: String, _ parameters: [String: String?]) -> String {
        let pairs = parameters.sorted { $0.key < $1.key }.compactMap { key, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return key + "=" + query(value)
        }
        return pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&")
    }

    static func endpoint(_ id: String) -> String { "/ui/endpoints/" + segment(id) }
    static func event(_ id: String) -> String { "/ui/events/" + segment(id) }
}

/// How the pages write times, counts and durations.
enum Format {
    /// `2026-12-02 07:00:25Z`.
    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        return date.formatted(.iso8601).replacingOccurrences(of: "T", with: " ")
    }

    static func rate(_ value: Double?) -> String { value.map { SVGChart.percent($0) } ?? "–" }

    static func milliseconds(_ value: Double?) -> String { value.map { SVGChart.format($0) } ?? "–" }

    /// A query value as a time: RFC 3339 / ISO 8601 (`2026-01-31T00:00:00Z`) or a date (`2026-01-31`); nil when blank.
    static func parseTime(_ text: String?, field: String) throws -> Date? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) { return date }
        throw UIError.badRequest("\(field) '\(text)': give a time like 2026-01-31T00:00:00Z or a date like 2026-01-31")
    }
}
