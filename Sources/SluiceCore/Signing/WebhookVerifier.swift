import COpenSSL
import Foundation

/// Checks a webhook's signature as a receiver does (what `sluice verify` runs).
///
/// Accepts when the timestamp is within `tolerance` of now and any `v1` signature of the
/// header matches, compared in constant time. Unknown versions (`v1a,…`) are skipped.
///
/// ```swift
/// let verifier = WebhookVerifier(secrets: [secret])
/// try verifier.verify(id: id, timestamp: ts, signatureHeader: header, body: body, now: Date())
/// ```
public struct WebhookVerifier: Sendable {
    public var secrets: [Secret]
    public var tolerance: Duration

    public init(secrets: [Secret], tolerance: Duration = .seconds(300)) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// Throws the reason when no signature matches or the timestamp is out of tolerance.
    public func verify(id: String, timestamp: String, signatureHeader: String, body: [UInt8], now: Date) throws(VerificationError) {
        // Unix seconds within ±10^12 (about 30,000 years): beyond that the value is not a
        // time, and the skew below could overflow.
        guard let seconds = Int64(timestamp), (-1_000_000_000_000...1_000_000_000_000).contains(seconds) else { throw .badTimestamp(timestamp) }
        let skew = Int64(now.timeIntervalSince1970) - seconds
        guard abs(skew) <= tolerance.components.seconds else {
            throw skew > 0 ? .tooOld(seconds: skew) : .inTheFuture(seconds: -skew)
        }
        let candidates = signatureHeader.split(separator: " ").compactMap { part -> [UInt8]? in
            guard part.hasPrefix("v1,"), let data = Data(base64Encoded: String(part.dropFirst(3))) else { return nil }
            return Array(data)
        }
        guard !candidates.isEmpty else { throw .noSignature }
        var content = Array("\(id).\(seconds).".utf8)
        content.append(contentsOf: body)
        for secret in secrets {
            let expected = WebhookSigner.hmacSHA256(key: secret.bytes, data: content)
            for candidate in candidates where candidate.count == expected.count {
                if sluice_constant_time_compare(candidate, expected, expected.count) == 0 { return }
            }
        }
        throw .mismatch
    }
}

/// Why a webhook's signature was not accepted.
public enum VerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    case badTimestamp(String)
    case tooOld(seconds: Int64)
    case inTheFuture(seconds: Int64)
    case noSignature
    case mismatch

    public var description: String {
        switch self {
        case .badTimestamp(let t): return "webhook-timestamp '\(t)' is not unix seconds"
        case .tooOld(let s): return "webhook-timestamp is \(s) s old, beyond the tolerance (a replayed or delayed message; check the receiver's clock)"
        case .inTheFuture(let s): return "webhook-timestamp is \(s) s in the future, beyond the tolerance (check the clocks)"
        case .noSignature: return "webhook-signature has no v1 signature"
        case .mismatch: return "no signature matches: wrong secret, or the body, id or timestamp were changed"
        }
    }
}
