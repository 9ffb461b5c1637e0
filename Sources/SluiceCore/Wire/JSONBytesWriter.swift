import Foundation

/// Writes one flat JSON object (arrays of flat objects, and values it wrote before,
/// allowed) straight into bytes, the way ``WireCoding``'s `JSONEncoder` does (keys in the
/// order given, which callers keep sorted; strings escaped as Foundation escapes them;
/// numbers as Swift prints them without a trailing `.0`; times as Unix milliseconds),
/// without the encoder's intermediate tree: the hot records of fanout and dispatch
/// (``Delivery``, ``Attempt``, ``DeadLetter``) are written with it.
///
/// Invariant: the output is byte for byte what `WireCoding.encoder` writes for the same
/// members (the wire tests compare the two over random records), so readers cannot tell
/// which path wrote a record.
///
/// ```swift
/// var json = JSONBytesWriter(capacity: 256)
/// json.member("attempt", 1)
/// json.member("body", "{}")
/// let bytes = json.finish()     // {"attempt":1,"body":"{}"}
/// ```
struct JSONBytesWriter {
    private(set) var bytes: [UInt8]
    /// Whether the next member needs a comma before it.
    private var hasMembers: Bool

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
        hasMembers = false
    }

    /// Members that follow others written elsewhere (the tail of a template): they start
    /// with a comma, and there is no opening brace.
    init(continuingWithCapacity capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        hasMembers = true
    }

    /// The object, closed.
    consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// A member's name and colon, its value to follow (see ``joined(_:quoting:_:)``).
    mutating func key(_ name: StaticString) {
        if hasMembers { bytes.append(UInt8(ascii: ",")) }
        hasMembers = true
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// `value` read as UTF-8 text, as `String(decoding:as:)` reads it (invalid sequences
    /// replaced), without making the string when the bytes are ASCII (a body mostly is).
    mutating func member(_ name: StaticString, text value: [UInt8]) {
        key(name)
        value.withUnsafeBufferPointer { bytes in
            if bytes.isASCII { string(bytes) } else { string(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    mutating func member(_ name: StaticString, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func member(_ name: StaticString, _ value: Double) {
        key(name)
        number(value)
    }

    /// A value already written as JSON by this writer's rules (a nested record's flat
    /// bytes), copied as it is.
    mutating func member(_ name: StaticString, json value: [UInt8]) {
        key(name)
        bytes += value
    }

    /// An array of objects, each written by `write` into a writer of its own.
    mutating func member<Element>(_ name: StaticString, objects: [Element], _ write: (inout JSONBytesWriter, Element) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in objects.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            var object = JSONBytesWriter(capacity: 96)
            write(&object, element)
            bytes += object.finish()
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A time as Unix milliseconds, as `.millisecondsSince1970` writes it.
    mutating func member(_ name: StaticString, milliseconds date: Date) {
        member(name, date.timeIntervalSince1970 * 1000)
    }

    private mutating func number(_ value: Double) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// `head`, then `text` as a JSON string (quotes included), then `tail`, in one array:
    /// a record from a template's two halves and the one value between them.
    static func joined(_ head: [UInt8], quoting text: String, _ tail: [UInt8]) -> [UInt8] {
        var writer = JSONBytesWriter(continuingWithCapacity: head.count + text.utf8.count + 2 + tail.count)
        writer.bytes += head
        writer.string(text)
        writer.bytes += tail
        return writer.bytes
    }

    /// `text` as a JSON string, quotes included.
    private mutating func string(_ text: String) {
        var text = text  // withUTF8 makes a bridged string native first; a native one is not copied
        text.withUTF8 { string($0) }
    }

    /// Bytes that are valid UTF-8 as a JSON string, quotes included: the runs between
    /// characters to escape are copied at once (a JSON body in a string is mostly such
    /// runs), each escape written byte by byte (no temporary array per escape).
    private mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var run = 0
        for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            if index > run { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index])) }
            run = index + 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escape(byte)
            case 0x0A: escape(UInt8(ascii: "n"))
            case 0x0D: escape(UInt8(ascii: "r"))
            case 0x09: escape(UInt8(ascii: "t"))
            case 0x08: escape(UInt8(ascii: "b"))
            case 0x0C: escape(UInt8(ascii: "f"))
            default:
                escape(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0x0F)])
            }
        }
        if utf8.count > run { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...])) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A backslash and `byte`.
    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(byte)
    }
}
