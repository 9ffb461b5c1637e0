import COpenSSL
import Foundation

/// Signs webhooks the Standard Webhooks way.
///
/// The signed content is `webhook-id + "." + webhook-timestamp + "." + body`; the
/// signature is `v1,` + base64(HMAC-SHA256(secret, content)). During a secret rotation
/// an endpoint has two secrets and the header carries both signatures, space-separated.
///
/// Invariant: the same id, timestamp, body and secrets always give the same header.
///
/// ```swift
/// let headers = WebhookSigner.headers(id: "msg_1", timestamp: 1614265330, body: body, secrets: [secret])
/// // ["webhook-id": "msg_1", "webhook-timestamp": "1614265330", "webhook-signature": "v1,…"]
/// ```
public enum WebhookSigner {
    /// `v1,<base64>` for one secret.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secret: Secret) -> String {
        let head = Array("\(id).\(timestamp).".utf8)
        return "v1," + Data(hmacSHA256(key: secret.bytes, head: head, tail: body)).base64EncodedString()
    }

    /// The three Standard Webhooks headers, with one signature per secret.
    public static func headers(id: String, timestamp: Int64, body: [UInt8], secrets: [Secret]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: fields(id: id, timestamp: timestamp, body: body, secrets: secrets).map { ($0.name, $0.value) })
    }

    /// The same three headers as ``headers(id:timestamp:body:secrets:)``, in name order, as
    /// a request carries them (no dictionary to build and sort per delivery).
    public static func fields(id: String, timestamp: Int64, body: [UInt8], secrets: [Secret]) -> [(name: String, value: String)] {
        let signatures = secrets.count == 1
            ? signature(id: id, timestamp: timestamp, body: body, secret: secrets[0])
            : secrets.map { signature(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
        return [("webhook-id", id), ("webhook-signature", signatures), ("webhook-timestamp", String(timestamp))]
    }

    /// The SHA-256 of `data` as 64 lowercase hex digits (how a rejected record too large
    /// to keep whole is identified).
    public static func sha256Hex(_ data: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        precondition(sluice_sha256(data, data.count, &out) == 1, "OpenSSL's SHA-256 failed")
        return out.map { String(format: "%02x", $0) }.joined()
    }

    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        hmacSHA256(key: key, head: data, tail: [])
    }

    /// HMAC-SHA256 of `head` followed by `tail`, without joining them (the body of a
    /// delivery is not copied to be signed).
    static func hmacSHA256(key: [UInt8], head: [UInt8], tail: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        precondition(sluice_hmac_sha256_parts(key, key.count, head, head.count, tail, tail.count, &out) == 1, "OpenSSL's SHA-256 failed")
        return out
    }

    /// OpenSSL's own one-shot HMAC, kept as the reference the tests check the block-level
    /// path against.
    static func referenceHMACSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        precondition(sluice_hmac_sha256(key, key.count, data, data.count, &out) == 1, "OpenSSL's HMAC failed")
        return out
    }
}
