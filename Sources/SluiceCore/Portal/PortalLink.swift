import Foundation

/// A tenant's way into the portal: a link that names one tenant, an expiry and whether the
/// tenant may change things, signed with HMAC-SHA256 under a key derived from the master key
/// (`master.key`, env `SLUICE_MASTER_KEY`), so `sluice portal-link` and every `sluice-admin`
/// replica sharing the master key make and accept the same links.
///
/// Invariant: ``verify(_:key:now:)`` accepts exactly the tokens ``token(key:)`` made with the
/// same key, unchanged and not yet expired; the signature covers tenant, expiry and the
/// read-only flag, so none of them can be altered; a link lives at most ``maxTTL``.
///
/// ```swift
/// let key = try PortalLink.signingKey(masterKeyBase64: masterKey)
/// let link = try PortalLink(tenant: "acme", ttl: .seconds(3600), readOnly: true)
/// let url = link.url(base: "https://admin.example", key: key)   // …/ui/portal?token=v1.…
/// try PortalLink.verify(link.token(key: key), key: key).tenant   // "acme"
/// ```
public struct PortalLink: Sendable, Equatable {
    public static let maxTTL: Duration = .seconds(7 * 86_400)
    public static let minTTL: Duration = .seconds(60)
    public static let path = "/ui/portal"

    public var tenant: String
    /// Unix seconds.
    public var expires: Int64
    public var readOnly: Bool

    public var expiresAt: Date { Date(timeIntervalSince1970: TimeInterval(expires)) }

    /// A link for `tenant` valid `ttl` from `now` (``minTTL``…``maxTTL``).
    public init(tenant: String, ttl: Duration, readOnly: Bool, now: Date = Date()) throws(PortalLinkError) {
        guard ttl >= Self.minTTL, ttl <= Self.maxTTL else { throw .badTTL }
        try Self.check(tenant: tenant)
        self.tenant = tenant
        self.expires = Int64(now.timeIntervalSince1970) + ttl.components.seconds
        self.readOnly = readOnly
    }

    init(tenant: String, expires: Int64, readOnly: Bool) {
        (self.tenant, self.expires, self.readOnly) = (tenant, expires, readOnly)
    }

    /// The key links are signed with: HMAC-SHA256(master key, "sluice-portal-link-v1").
    public static func signingKey(masterKeyBase64: String) throws(PortalLinkError) -> [UInt8] {
        guard let master = Data(base64Encoded: masterKeyBase64), master.count == 32 else { throw .noKey }
        return WebhookSigner.hmacSHA256(key: Array(master), data: Array("sluice-portal-link-v1".utf8))
    }

    /// `v1.<tenant, base64url>.<expiry>.<0|1>.<signature, base64url>`.
    public func token(key: [UInt8]) -> String {
        let body = "v1.\(Base64URL.encode(Array(tenant.utf8))).\(expires).\(readOnly ? 1 : 0)"
        return body + "." + Base64URL.encode(WebhookSigner.hmacSHA256(key: key, data: Array(body.utf8)))
    }

    /// The link under `base` (the admin's external URL, without a trailing slash).
    public func url(base: String, key: [UInt8]) -> String {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed + Self.path + "?token=" + token(key: key)
    }

    /// The link `token` stands for, if its signature holds under `key` and it has not expired.
    public static func verify(_ token: String, key: [UInt8], now: Date = Date()) throws(PortalLinkError) -> PortalLink {
        guard token.utf8.count <= 1024 else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "v1", let tenantBytes = Base64URL.decode(parts[1]),
            let tenant = String(validating: tenantBytes, as: UTF8.self), let expires = Int64(parts[2]), parts[3] == "0" || parts[3] == "1",
            let signature = Base64URL.decode(parts[4])
        else { throw .malformed }
        let expected = WebhookSigner.hmacSHA256(key: key, data: Array(parts[0...3].joined(separator: ".").utf8))
        guard ConstantTime.equal(signature, expected) else { throw .badSignature }
        guard Double(expires) > now.timeIntervalSince1970 else { throw .expired }
        try check(tenant: tenant)
        return PortalLink(tenant: tenant, expires: expires, readOnly: parts[3] == "1")
    }

    static func check(tenant: String) throws(PortalLinkError) {
        do throws(WireError) { try WireCheck(kind: "portal link").id(tenant, "tenant") } catch { throw .badTenant }
    }
}

/// Why a portal link was refused or cannot be made.
public enum PortalLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed, badSignature, expired, badTTL, badTenant, noKey

    public var description: String {
        switch self {
        case .malformed: return "this is not a portal link; ask your operator for a new one (sluice portal-link --tenant T)"
        case .badSignature: return "this portal link's signature does not hold (it was changed, or made with another master key)"
        case .expired: return "this portal link has expired; ask your operator for a new one"
        case .badTTL: return "a portal link lives between 1 minute and 7 days (--ttl)"
        case .badTenant: return "the tenant id is empty, too long or has control characters"
        case .noKey: return "portal links are signed with a key derived from the master key: set SLUICE_MASTER_KEY (base64 of 32 bytes)"
        }
    }
}

/// Unpadded base64url (RFC 4648 §5).
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}

/// Comparison whose time does not depend on where two byte strings differ.
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
