import COpenSSL
import Foundation

/// An endpoint's signing secret: `whsec_` followed by the base64 of 24 to 64 random bytes
/// (Standard Webhooks).
///
/// Invariant: `bytes` is 24…64 bytes long. The secret never prints: `description` and
/// `debugDescription` are redacted, so string interpolation into a log cannot leak it.
/// Only ``encoded`` shows it, for the one place it is shown to its owner.
///
/// ```swift
/// let secret = Secret.generate()
/// print(secret)           // whsec_…(redacted)
/// let text = secret.encoded   // "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
/// ```
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let prefix = "whsec_"
    public static let allowedLength = 24...64

    /// The raw key bytes for HMAC.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(SecretError) {
        guard Self.allowedLength.contains(bytes.count) else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
    }

    /// Parses `whsec_<base64>`.
    public init(encoded text: String) throws(SecretError) {
        guard text.hasPrefix(Self.prefix) else { throw .missingPrefix }
        guard let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))) else { throw .notBase64 }
        try self.init(bytes: Array(data))
    }

    /// A new random secret of `length` bytes (32 by default).
    public static func generate(length: Int = 32) -> Secret {
        var bytes = [UInt8](repeating: 0, count: length)
        precondition(sluice_random_bytes(&bytes, length) == 1, "OpenSSL's RAND_bytes failed")
        return try! Secret(bytes: bytes)
    }

    /// `whsec_<base64>`: shown once to the endpoint's owner, stored only encrypted.
    public var encoded: String { Self.prefix + Data(bytes).base64EncodedString() }

    public var description: String { "whsec_…(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Why text is not a usable secret.
public enum SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingPrefix
    case notBase64
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .missingPrefix: return "a secret starts with whsec_ (omit --secret to have one generated)"
        case .notBase64: return "the part after whsec_ is not valid base64"
        case .wrongLength(let n): return "a secret has 24 to 64 bytes, this one has \(n)"
        }
    }
}
