import SluiceCore

extension String {
    /// Text of a NUL-terminated C buffer (librdkafka's `errstr` buffers).
    init(errorBuffer: [CChar]) {
        self = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
