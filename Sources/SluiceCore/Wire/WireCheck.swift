import Foundation

/// The bounds every wire record is held to, when it is read and before it is written, so
/// that no value from a topic can reach a trap further on (an `Int64(…)` of a time, a
/// multiplication of an attempt number) and a stage never writes what its readers refuse.
///
/// Invariant: a record that passed ``WireRecord/validate()`` has every time inside
/// ``timeWindow``, every id non-empty and at most ``maxIDBytes`` of UTF-8 without control
/// characters, every attempt number in ``attempts`` and every list and text bounded.
///
/// ```swift
/// let check = WireCheck(kind: "delivery")
/// try check.id(delivery.endpointID, "endpoint_id")
/// try check.time(delivery.notBefore, "not_before")
/// ```
public struct WireCheck: Sendable {
    /// Times outside 2000-01-01 … 2200-01-01 are refused (unix seconds).
    public static let timeWindow: ClosedRange<TimeInterval> = 946_684_800...7_258_118_400
    public static let maxIDBytes = 256
    /// Attempt numbers (and schedule lengths) at most this.
    public static let attempts: ClosedRange<Int> = 1...1000
    /// A body larger than this is not a webhook (the event limit is configured far below).
    public static let maxBodyBytes = 64 * 1024 * 1024
    /// Free text (reasons, errors, excerpts) at most this many bytes.
    public static let maxTextBytes = 64 * 1024

    public let kind: String

    public init(kind: String) { self.kind = kind }

    func fail(_ field: String, _ why: String) -> WireError { WireError(kind: kind, problem: "bad \(field): \(why)") }

    /// A non-empty id of printable text, at most ``maxIDBytes`` bytes.
    public func id(_ value: String, _ field: String) throws(WireError) {
        guard !value.isEmpty else { throw fail(field, "empty") }
        guard value.utf8.count <= Self.maxIDBytes else { throw fail(field, "longer than \(Self.maxIDBytes) bytes") }
        guard !Self.hasControlCharacters(value) else { throw fail(field, "contains control characters") }
    }

    /// Whether `value` has a control character (general category Cc: exactly U+0000…001F
    /// and U+007F…009F), read in its UTF-8 bytes: U+0080…009F are `C2 80`…`C2 9F`, and
    /// `C2` is only ever a lead byte.
    static func hasControlCharacters(_ value: String) -> Bool {
        var value = value  // withUTF8 copies only a string that is not native UTF-8
        return value.withUTF8 { bytes in
            var previous: UInt8 = 0
            for byte in bytes {
                if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte <= 0x9F) { return true }
                previous = byte
            }
            return false
        }
    }

    public func time(_ value: Date, _ field: String) throws(WireError) {
        guard Self.timeWindow.contains(value.timeIntervalSince1970) else {
            throw fail(field, "a time outside the years 2000…2200")
        }
    }

    public func number(_ value: Int, _ field: String, in range: ClosedRange<Int>) throws(WireError) {
        guard range.contains(value) else { throw fail(field, "\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
    }

    public func number(_ value: Double, _ field: String, in range: ClosedRange<Double>) throws(WireError) {
        guard value.isFinite, range.contains(value) else { throw fail(field, "\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
    }

    public func text(_ value: String, _ field: String, maxBytes: Int = WireCheck.maxTextBytes) throws(WireError) {
        guard value.utf8.count <= maxBytes else { throw fail(field, "longer than \(maxBytes) bytes") }
    }

    public func count(_ value: Int, _ field: String, max: Int) throws(WireError) {
        guard value <= max else { throw fail(field, "more than \(max) entries") }
    }

    /// An HTTP status: 100…599.
    public func status(_ value: Int?, _ field: String) throws(WireError) {
        if let value { try number(value, field, in: 100...599) }
    }
}

extension String {
    /// The first `maxBytes` bytes of UTF-8 at most, cut at a character boundary, with `…`
    /// when cut: for free text a record keeps (errors, excerpts) within ``WireCheck`` bounds.
    public func truncated(toBytes maxBytes: Int) -> String {
        guard utf8.count > maxBytes else { return self }
        var out = ""
        var used = 0
        for character in self {
            let size = character.utf8.count
            if used + size > maxBytes - 3 { break }
            out.append(character)
            used += size
        }
        return out + "…"
    }
}
