/// The response headers dispatch keeps (`Retry-After`, `Location`), read from curl's raw
/// header lines without making a `String` of the others: the callback runs for every line
/// of every response, so a lowercased copy and a Foundation trim of each cost more than the
/// rest of the parsing.
///
/// Invariant: names compare ASCII case-insensitively; a value has no leading or trailing
/// spaces, tabs, CR or LF; a line without a colon, or of another name, is nil.
///
/// ```swift
/// ResponseHeaderLine.parse(Array("Retry-After: 120\r\n".utf8))   // (.retryAfter, "120")
/// ```
enum ResponseHeaderLine: Equatable {
    case retryAfter
    case location

    private static let names: [(ResponseHeaderLine, [UInt8])] = [(.retryAfter, Array("retry-after".utf8)), (.location, Array("location".utf8))]

    static func parse(_ line: some BidirectionalCollection<UInt8>) -> (header: ResponseHeaderLine, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = line[..<colon]
        guard let header = names.first(where: { $0.1.count == name.count && equalsIgnoringASCIICase(name, $0.1) })?.0 else { return nil }
        var value = line[line.index(after: colon)...].drop { isSpace($0) }
        while let last = value.last, isSpace(last) { value = value.dropLast() }
        return (header, String(decoding: value, as: UTF8.self))
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    /// `bytes` equals `lowercase` (ASCII letters already lower case) ignoring case.
    private static func equalsIgnoringASCIICase(_ bytes: some Collection<UInt8>, _ lowercase: [UInt8]) -> Bool {
        zip(bytes, lowercase).allSatisfy { byte, expected in
            (0x41...0x5A).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }
}
