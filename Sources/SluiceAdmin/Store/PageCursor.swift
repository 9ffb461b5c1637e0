import Foundation

/// The `iterator` of a page: where the page stopped, as base64url text of its sort key,
/// opaque to clients.
///
/// Invariant: ``decode(_:parts:)`` accepts exactly what ``encode(_:)`` made with the same
/// number of parts, and throws ``QueryStoreError/badIterator`` for anything else.
///
/// ```swift
/// let text = PageCursor.encode(["1700000000000", "3", "42"])
/// try PageCursor.decode(text, parts: 3)   // ["1700000000000", "3", "42"]
/// ```
enum PageCursor {
    static func encode(_ parts: [String]) -> String {
        let text = (["v1"] + parts).joined(separator: "\u{1f}")
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String, parts: Int) throws(QueryStoreError) -> [String] {
        guard text.utf8.count <= 1024 else { throw .badIterator }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else { throw .badIterator }
        let fields = decoded.split(separator: "\u{1f}", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == parts + 1, fields[0] == "v1" else { throw .badIterator }
        return Array(fields.dropFirst())
    }

    /// A whole number from a cursor part.
    static func int(_ text: String) throws(QueryStoreError) -> Int64 {
        guard let value = Int64(text) else { throw .badIterator }
        return value
    }
}

/// Milliseconds since 1970 of a date, clamped to ±10^15 (about ±31,000 years), so a date
/// from a request can never overflow the conversion.
enum Millis {
    static func of(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite else { return 0 }
        return Int64(min(max(ms, -1e15), 1e15))
    }
}
