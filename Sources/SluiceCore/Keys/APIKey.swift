import Foundation

/// An API key of the admin API, as stored (key = id) on the compacted topic
/// `sluice.api-keys`: only the SHA-256 of the secret key, never the key itself.
///
/// Invariant: exactly one of `admin` and `tenant` grants access: an admin key has no
/// tenant, a tenant key has one; `hash` is 64 lowercase hex digits. A revoked key
/// (`revokedAt` set) grants nothing; revoking is a new revision of the record.
///
/// ```swift
/// let (record, secret) = APIKey.generate(tenant: "acme")
/// // print secret once ("sk_…"); store record on sluice.api-keys
/// record.matches(presented: secret)   // true
/// ```
public struct APIKey: WireRecord, Equatable {
    public static let kind = "api_key"
    public static let version = 1
    public static let knownKeys: Set<String> = ["id", "tenant", "admin", "hash", "name", "created_at", "revoked_at"]
    /// What every key starts with.
    public static let prefix = "sk_"

    public var id: String
    /// The tenant a tenant key is for; nil for an admin key.
    public var tenant: String?
    public var admin: Bool
    /// SHA-256 of the key's text, lowercase hex.
    public var hash: String
    /// A note for operators (what the key is for).
    public var name: String?
    public var createdAt: Date
    public var revokedAt: Date?
    public var extra: [String: JSONValue] = [:]

    public init(id: String, tenant: String?, admin: Bool, hash: String, name: String? = nil, createdAt: Date = Date()) {
        self.id = id
        self.tenant = tenant
        self.admin = admin
        self.hash = hash
        self.name = name
        self.createdAt = createdAt
    }

    /// A new key for `tenant` (nil: an admin key) and the secret to show once.
    public static func generate(tenant: String?, name: String? = nil, now: Date = Date()) -> (record: APIKey, secret: String) {
        let secret = prefix + RandomID.make(length: 40)
        let record = APIKey(
            id: "key_" + RandomID.make(length: 16), tenant: tenant, admin: tenant == nil, hash: hash(of: secret), name: name,
            createdAt: now)
        return (record, secret)
    }

    /// The stored form of a presented key.
    public static func hash(of secret: String) -> String { WebhookSigner.sha256Hex(Array(secret.utf8)) }

    /// True when `presented` is this key and the key is not revoked.
    public func matches(presented: String) -> Bool { revokedAt == nil && Self.hash(of: presented) == hash }

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(id, "id")
        if let tenant { try check.id(tenant, "tenant") }
        guard admin == (tenant == nil) else {
            throw check.fail("admin", admin ? "an admin key has no tenant" : "a tenant key needs its tenant")
        }
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw check.fail("hash", "not a SHA-256 in lowercase hex")
        }
        if let name { try check.text(name, "name", maxBytes: 1024) }
        try check.time(createdAt, "created_at")
        if let revokedAt { try check.time(revokedAt, "revoked_at") }
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, admin, hash, name
        case createdAt = "created_at", revokedAt = "revoked_at"
    }
}
