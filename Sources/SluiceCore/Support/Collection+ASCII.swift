extension Collection where Element == UInt8 {
    /// Whether every byte is ASCII (below 0x80): such bytes are valid UTF-8, one character
    /// each, so the readers and writers of the hot wire records skip the general UTF-8 path.
    ///
    /// ```swift
    /// Array("order.created".utf8).isASCII   // true
    /// ```
    var isASCII: Bool { allSatisfy { $0 < 0x80 } }
}
