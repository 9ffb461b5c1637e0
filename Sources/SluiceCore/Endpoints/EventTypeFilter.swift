/// Which event types an endpoint takes: exact types (`invoice.paid`), prefixes
/// (`order.*` takes `order.created` and `order.item.added`, not `order`), or all (`*`).
///
/// Invariant: `patterns` is non-empty; each is `*`, `prefix.*`, or an exact type
/// without `*`.
///
/// ```swift
/// let filter = try EventTypeFilter(parsing: "order.*,invoice.paid")
/// filter.matches("order.created")   // true
/// ```
public struct EventTypeFilter: Sendable, Hashable, Codable, CustomStringConvertible {
    public let patterns: [String]

    public static let all = try! EventTypeFilter(["*"])

    public init(_ patterns: [String]) throws(EndpointError) {
        let cleaned = patterns.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw .invalidFilter("an empty filter takes nothing; use * for every type") }
        for p in cleaned where p != "*" {
            let stem = p.hasSuffix(".*") ? String(p.dropLast(2)) : p
            guard !stem.isEmpty, !stem.contains("*") else {
                throw .invalidFilter("'\(p)': use an exact type, a prefix like order.*, or *")
            }
        }
        self.patterns = Array(Set(cleaned)).sorted()
    }

    /// Parses a comma-separated list, e.g. `order.*,invoice.paid`.
    public init(parsing text: String) throws(EndpointError) {
        try self.init(text.split(separator: ",").map(String.init))
    }

    public func matches(_ type: String) -> Bool {
        patterns.contains { p in
            if p == "*" { return true }
            if p.hasSuffix(".*") { return type.hasPrefix(p.dropLast()) }
            return p == type
        }
    }

    public var description: String { patterns.joined(separator: ",") }

    public init(from decoder: any Decoder) throws {
        let patterns = try decoder.singleValueContainer().decode([String].self)
        do { try self.init(patterns) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(patterns)
    }
}
