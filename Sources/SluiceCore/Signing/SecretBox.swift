import COpenSSL
import Foundation

/// Encrypts endpoint secrets at rest (AES-256-GCM) under a master key from config
/// (`SLUICE_MASTER_KEY`: base64 of 32 bytes).
///
/// A sealed secret is `sbox1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id
/// names the master key that sealed it (derived from the key, so it needs no config),
/// which lets operators rotate: a box opens with its current key or any `previous` one,
/// and always seals with the current one. The endpoint id is authenticated with the
/// ciphertext, so a sealed secret cannot be moved to another endpoint.
///
/// ```swift
/// let box = try SecretBox(masterKeyBase64: env["SLUICE_MASTER_KEY"]!)
/// let sealed = box.seal(secret, endpointID: "ep_1")
/// let opened = try box.open(sealed, endpointID: "ep_1")
/// ```
public struct SecretBox: Sendable {
    /// A master key and the id derived from it (the first 4 bytes of an HMAC of a fixed label).
    public struct Key: Sendable {
        public let id: String
        let bytes: [UInt8]

        public init(base64: String) throws(SecretBoxError) {
            guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
            else { throw .badMasterKey }
            bytes = Array(data)
            id = WebhookSigner.hmacSHA256(key: bytes, data: Array("sluice-key-id".utf8)).prefix(4)
                .map { String(format: "%02x", $0) }.joined()
        }

        /// A new random master key, base64 (what `sluice dev` writes to its state folder).
        public static func generateBase64() -> String {
            var bytes = [UInt8](repeating: 0, count: 32)
            precondition(sluice_random_bytes(&bytes, 32) == 1)
            return Data(bytes).base64EncodedString()
        }
    }

    public let current: Key
    public let previous: [Key]

    public init(current: Key, previous: [Key] = []) {
        self.current = current
        self.previous = previous
    }

    public init(masterKeyBase64: String, previousBase64: [String] = []) throws(SecretBoxError) {
        var previous: [Key] = []
        for text in previousBase64 { previous.append(try Key(base64: text)) }
        self.init(current: try Key(base64: masterKeyBase64), previous: previous)
    }

    /// The id of the master key a sealed secret was sealed under (`sbox1:<id>:…`), or nil
    /// when it is not a sealed secret.
    public static func keyID(ofSealed sealed: String) -> String? {
        let parts = sealed.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, parts[0] == "sbox1", !parts[1].isEmpty else { return nil }
        return String(parts[1])
    }

    /// Whether writing secrets sealed under this box's key fits `inUse`, the key ids the
    /// topic's endpoints are sealed under: nothing in use yet, or this key among them. An
    /// operator who starts a stage with another key would otherwise break every endpoint
    /// it writes for every dispatcher still on the old one, silently.
    ///
    /// ```swift
    /// guard box.fits(keyIDsInUse: registry.sealingKeyIDs) else { throw … }
    /// ```
    public func fits(keyIDsInUse inUse: Set<String>) -> Bool {
        inUse.isEmpty || inUse.contains(current.id)
    }

    /// Encrypts `secret` for `endpointID` with a fresh random nonce.
    public func seal(_ secret: Secret, endpointID: String) -> String {
        var nonce = [UInt8](repeating: 0, count: 12)
        precondition(sluice_random_bytes(&nonce, 12) == 1)
        let plain = Array(secret.encoded.utf8)
        let aad = Array(endpointID.utf8)
        var cipher = [UInt8](repeating: 0, count: plain.count)
        var tag = [UInt8](repeating: 0, count: 16)
        precondition(sluice_aes256gcm_seal(current.bytes, nonce, aad, aad.count, plain, plain.count, &cipher, &tag) == 1)
        return "sbox1:\(current.id):" + Data(nonce + cipher + tag).base64EncodedString()
    }

    /// Decrypts a sealed secret of `endpointID`.
    public func open(_ sealed: String, endpointID: String) throws(SecretBoxError) -> Secret {
        let parts = sealed.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "sbox1", let data = Data(base64Encoded: parts[2]), data.count > 28 else {
            throw .malformed
        }
        guard let key = ([current] + previous).first(where: { $0.id == parts[1] }) else { throw .unknownKey(parts[1]) }
        let bytes = Array(data)
        let nonce = Array(bytes[0..<12])
        let cipher = Array(bytes[12..<(bytes.count - 16)])
        let tag = Array(bytes[(bytes.count - 16)...])
        let aad = Array(endpointID.utf8)
        var plain = [UInt8](repeating: 0, count: cipher.count)
        guard sluice_aes256gcm_open(key.bytes, nonce, aad, aad.count, cipher, cipher.count, tag, &plain) == 1 else {
            throw .authenticationFailed
        }
        do { return try Secret(encoded: String(decoding: plain, as: UTF8.self)) } catch { throw .malformed }
    }
}

/// Why a sealed secret cannot be opened, or a master key used.
public enum SecretBoxError: Error, Sendable, Equatable, CustomStringConvertible {
    case badMasterKey
    case malformed
    case unknownKey(String)
    case authenticationFailed

    public var description: String {
        switch self {
        case .badMasterKey:
            return "SLUICE_MASTER_KEY must be the base64 of 32 bytes (make one with: head -c32 /dev/urandom | base64)"
        case .malformed: return "the sealed secret is not of the form sbox1:<key id>:<base64>"
        case .unknownKey(let id):
            return "the secret was sealed with master key \(id), which is neither the current nor a previous key; "
                + "add the old key to the previous master keys"
        case .authenticationFailed:
            return "the sealed secret does not authenticate (wrong master key, or it belongs to another endpoint)"
        }
    }
}
