import Foundation

/// A JSON object whose members are all strings, numbers, booleans, null, or arrays of
/// objects of those, read in one pass over its bytes: the fast path of the hot wire
/// records (``Delivery``, ``Attempt``), which are flat but for a retried delivery's
/// history.
///
/// It reads strict JSON (RFC 8259) and gives up (nil) on anything it is not sure of: any
/// other nesting (an object member, an array of scalars, an array inside an array's
/// object), a duplicate key, a number out of `Double`'s range, invalid UTF-8, a lone
/// surrogate, text after the object. The caller then takes the general path
/// (`JSONDecoder`), which either reads the record or says precisely what is wrong, so the
/// fast path never decides an error and never accepts what the general path refuses.
///
/// Invariant: when it answers, every member holds exactly what `JSONDecoder` would read
/// for it (the wire tests compare both paths over random and hostile records).
///
/// ```swift
/// let object = FlatJSONObject(Array(#"{"attempt":2,"tenant":"acme"}"#.utf8))
/// object?["attempt"]   // .number(2.0, integer: 2)
/// ```
public struct FlatJSONObject: Sendable, Equatable {
    public enum Value: Equatable, Sendable {
        case string(String)
        /// A number; `integer` when its text is a plain integer that fits `Int`.
        case number(Double, integer: Int?)
        case bool(Bool)
        case null
        /// An array whose elements are all objects of flat members (none of them an array).
        case objects([FlatJSONObject])
    }

    public private(set) var members: [String: Value] = [:]

    public subscript(key: String) -> Value? { members[key] }

    public init?(_ bytes: [UInt8]) {
        var reader = Reader(bytes: bytes)
        guard let members = reader.object(allowingArrays: true), reader.end() else { return nil }
        self.members = members
    }

    private init(members: [String: Value]) { self.members = members }

    struct Reader {
        let bytes: [UInt8]
        var at = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// An object's members; arrays of flat objects among them only when `allowingArrays`.
        mutating func object(allowingArrays: Bool) -> [String: Value]? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            // Room for a whole record at once (a delivery has about twenty members; growing
            // from empty rehashed it four times per record read).
            var members = [String: Value](minimumCapacity: allowingArrays ? 24 : 6)
            skipSpace()
            if take(UInt8(ascii: "}")) { return members }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = value(allowingArrays: allowingArrays), members.updateValue(value, forKey: key) == nil else { return nil }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return members
            }
        }

        /// `[` flat objects `]`.
        mutating func objects() -> [FlatJSONObject]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var elements: [FlatJSONObject] = []
            skipSpace()
            if take(UInt8(ascii: "]")) { return elements }
            while true {
                guard let members = object(allowingArrays: false) else { return nil }
                elements.append(FlatJSONObject(members: members))
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]")) ? elements : nil
            }
        }

        /// Only whitespace after the object.
        mutating func end() -> Bool {
            skipSpace()
            return at == bytes.count
        }

        mutating func value(allowingArrays: Bool) -> Value? {
            guard at < bytes.count else { return nil }
            switch bytes[at] {
            case UInt8(ascii: "[") where allowingArrays: return objects().map(Value.objects)
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil  // an object, or an array where none may be: not flat
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard at + count <= bytes.count else { return false }
            let matches = word.withUTF8Buffer { Array($0) == Array(bytes[at..<at + count]) }
            if matches { at += count }
            return matches
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, finite as a `Double`.
        mutating func number() -> Value? {
            let start = at
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                if digits() > 0 { return nil }
            } else if digits() == 0 {
                return nil
            }
            var integral = true
            if take(UInt8(ascii: ".")) {
                integral = false
                guard digits() > 0 else { return nil }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                integral = false
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() > 0 else { return nil }
            }
            let text = String(decoding: bytes[start..<at], as: UTF8.self)
            guard let double = Double(text), double.isFinite else { return nil }
            return .number(double, integer: integral ? Int(text) : nil)
        }

        mutating func digits() -> Int {
            let start = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return at - start
        }

        /// A string with its escapes resolved; nil for a control character, a bad escape,
        /// a lone surrogate or invalid UTF-8.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = at
            // The common case: no escapes, the bytes are the string.
            switch plainRun() {
            case true?:
                defer { at += 1 }
                return Self.text(bytes[start..<at])
            case false?: break
            case nil: return nil
            }
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count - start)
            out.append(contentsOf: bytes[start..<at])
            while at < bytes.count {
                // The run up to the next quote, backslash or control character, copied at once
                // (a body of JSON in a string is mostly such runs between escaped quotes).
                let run = at
                while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
                if at > run { out.append(contentsOf: bytes[run..<at]) }
                guard at < bytes.count else { return nil }
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return Self.text(out[...])
                case 0..<0x20: return nil
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        out.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                default: out.append(byte)
                }
            }
            return nil
        }

        /// `run` as a string, nil when it is not valid UTF-8 (as `String(validating:as:)`
        /// decides it); ASCII, the common case, without the generic validation.
        static func text(_ run: ArraySlice<UInt8>) -> String? {
            run.isASCII ? String(decoding: run, as: UTF8.self) : String(validating: run, as: UTF8.self)
        }

        /// Moves over a string's bytes to its closing quote (true, left on it) or its first
        /// backslash (false, left on it); nil at a control character or the end.
        mutating func plainRun() -> Bool? {
            while at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"): return false
                case 0..<0x20: return nil
                default: at += 1
                }
            }
            return nil
        }

        /// The scalar of `XXXX` (after `\u`), joining a surrogate pair.
        mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            switch high {
            case 0xD800..<0xDC00:
                guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00..<0xE000: return nil
            default: return Unicode.Scalar(high)
            }
        }

        mutating func hex4() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<at + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            at += 4
            return value
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        mutating func skipSpace() {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }
    }
}

extension FlatJSONObject {
    /// Whether every key is one of `keys` or the format version `v`.
    public func hasOnly(_ keys: Set<String>) -> Bool {
        members.keys.allSatisfy { $0 == "v" || keys.contains($0) }
    }

    /// A string member; nil when absent or of another type.
    public func text(_ key: String) -> String? {
        if case .string(let text)? = members[key] { text } else { nil }
    }

    /// An integer member written as a plain integer; nil otherwise.
    public func integer(_ key: String) -> Int? {
        if case .number(_, let integer?)? = members[key] { integer } else { nil }
    }

    /// A number member.
    public func number(_ key: String) -> Double? {
        if case .number(let number, _)? = members[key] { number } else { nil }
    }

    /// An array of flat objects; nil when absent or of another type.
    public func objects(_ key: String) -> [FlatJSONObject]? {
        if case .objects(let objects)? = members[key] { objects } else { nil }
    }

    /// A time written as Unix milliseconds, read as `.millisecondsSince1970` reads it.
    public func milliseconds(_ key: String) -> Date? {
        number(key).map { Date(timeIntervalSince1970: $0 / 1000) }
    }

    /// An optional member, as `decodeIfPresent` reads it: `.some(nil)` when absent or
    /// null, nil when present with the wrong type (the general path then says so).
    public func optional<T>(_ key: String, _ read: (String) -> T?) -> T?? {
        switch members[key] {
        case nil, .null?: return .some(nil)
        default: return read(key).map { .some($0) }
        }
    }
}
