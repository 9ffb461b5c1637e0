/// Reading a few string members of any JSON object, the rest skipped over: how fanout
/// reads a structured event's attributes without decoding its `data`.
extension FlatJSONObject {
    /// The members of the JSON object `bytes` named in `names` whose values are strings
    /// (one of another type counts as absent, as `try? decodeIfPresent(String.self, …)`
    /// reads it); every other value is checked as strict JSON and skipped, not kept.
    ///
    /// Nil, for the caller's general path (`JSONDecoder`) to decide, wherever this reader
    /// is not sure: anything but strict JSON (RFC 8259), a number out of `Double`'s range,
    /// invalid UTF-8 or a lone surrogate in any string, nesting deeper than
    /// ``JSONValue/maxDepth``, a name of `names` twice, text after the object. So it never
    /// answers where `JSONDecoder` would refuse the bytes or read another value.
    ///
    /// ```swift
    /// FlatJSONObject.strings(named: ["id", "type"], in: Array(#"{"id":"e1","type":7,"data":{"a":[1]}}"#.utf8))
    /// // ["id": "e1"]
    /// ```
    public static func strings(named names: [String], in bytes: [UInt8]) -> [String: String]? {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        var found = [String: String](minimumCapacity: names.count)
        var seen = [Bool](repeating: false, count: names.count)
        let members = reader.skipElements(closedBy: UInt8(ascii: "}")) { reader in
            guard let key = reader.string() else { return false }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return false }
            reader.skipSpace()
            guard let index = names.firstIndex(of: key) else { return reader.skipValue(depth: 1) }
            guard !seen[index] else { return false }
            seen[index] = true
            guard reader.at < reader.bytes.count, reader.bytes[reader.at] == UInt8(ascii: "\"") else { return reader.skipValue(depth: 1) }
            guard let text = reader.string() else { return false }
            found[key] = text
            return true
        }
        guard members else { return nil }
        return reader.end() ? found : nil
    }
}

extension FlatJSONObject.Reader {
    /// Checks one JSON value at `depth` levels of nesting and moves past it; false where
    /// the reader is not sure it is strict JSON (see ``FlatJSONObject/strings(named:in:)``).
    mutating func skipValue(depth: Int) -> Bool {
        guard at < bytes.count else { return false }
        switch bytes[at] {
        case UInt8(ascii: "{"):
            guard depth < JSONValue.maxDepth else { return false }
            at += 1
            return skipElements(closedBy: UInt8(ascii: "}")) { reader in
                guard reader.skipString() else { return false }
                reader.skipSpace()
                guard reader.take(UInt8(ascii: ":")) else { return false }
                reader.skipSpace()
                return reader.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            guard depth < JSONValue.maxDepth else { return false }
            at += 1
            return skipElements(closedBy: UInt8(ascii: "]")) { $0.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number() != nil
        default: return false
        }
    }

    /// After `{` or `[`: elements, each checked by `element`, separated by commas, to `close`.
    fileprivate mutating func skipElements(closedBy close: UInt8, _ element: (inout Self) -> Bool) -> Bool {
        skipSpace()
        if take(close) { return true }
        while true {
            skipSpace()
            guard element(&self) else { return false }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            return take(close)
        }
    }

    /// Checks a string as ``string()`` reads it and moves past it; without making it when
    /// it has no escapes (most of a skipped `data`).
    mutating func skipString() -> Bool {
        let quote = at
        guard take(UInt8(ascii: "\"")) else { return false }
        let start = at
        switch plainRun() {
        case true?:
            defer { at += 1 }
            return Self.isUTF8(bytes[start..<at])
        case false?:
            at = quote
            return string() != nil
        case nil: return false
        }
    }

    /// Whether `run` is valid UTF-8, as `String(validating:as:)` decides it.
    static func isUTF8(_ run: ArraySlice<UInt8>) -> Bool {
        if run.isASCII { return true }
        var iterator = run.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
