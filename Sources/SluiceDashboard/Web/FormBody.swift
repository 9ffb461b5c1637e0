import Foundation

/// An `application/x-www-form-urlencoded` body (or query string) as name → value, the last
/// value of a repeated name winning.
///
/// Invariant: built only through ``init(parsing:)``, which refuses bodies over
/// ``maxBytes`` and more than ``maxFields`` fields, and decodes percent escapes and `+`
/// (invalid escapes are kept as typed); no input traps.
///
/// ```swift
/// let form = try FormBody(parsing: "url=https%3A%2F%2Fa.example&types=order.*")
/// form["url"]   // "https://a.example"
/// ```
public struct FormBody: Sendable, Equatable {
    public static let maxBytes = 64 * 1024
    public static let maxFields = 100
    public private(set) var fields: [String: String] = [:]

    public init(parsing text: String) throws(FormError) {
        guard text.utf8.count <= Self.maxBytes else { throw .tooLarge }
        let pairs = text.split(separator: "&", omittingEmptySubsequences: true)
        guard pairs.count <= Self.maxFields else { throw .tooManyFields }
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    public subscript(_ name: String) -> String? { fields[name] }

    /// The value of `name` trimmed, nil when missing or blank.
    public func nonEmpty(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// Why a form was refused.
public enum FormError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooLarge, tooManyFields

    public var description: String {
        switch self {
        case .tooLarge: return "the form is larger than \(FormBody.maxBytes / 1024) KiB"
        case .tooManyFields: return "the form has more than \(FormBody.maxFields) fields"
        }
    }
}
