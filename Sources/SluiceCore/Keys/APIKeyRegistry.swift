/// Every API key, built from the records of `sluice.api-keys`, found by the hash of a
/// presented key.
///
/// Invariant: ``key(presented:)`` answers only keys that are known and not revoked; a
/// tombstone removes a key; the last record of an id wins (records of one id are in one
/// partition, in order).
///
/// ```swift
/// var registry = APIKeyRegistry()
/// try registry.apply(key: record.id, value: try record.wireBytes())
/// registry.key(presented: "sk_…")?.tenant
/// ```
public struct APIKeyRegistry: Sendable {
    private var byID: [String: APIKey] = [:]
    private var byHash: [String: String] = [:]

    public init() {}

    /// Applies one record: a value upserts, nil (a tombstone) removes. Throws, changing
    /// nothing, when the value is not an API key or its key differs from its id.
    public mutating func apply(key: String, value: [UInt8]?) throws(WireError) {
        guard let value else {
            if let held = byID.removeValue(forKey: key) { byHash[held.hash] = nil }
            return
        }
        let record = try APIKey(wireBytes: value)
        guard record.id == key else {
            throw WireError(kind: APIKey.kind, problem: "record key \(key) differs from its id \(record.id)")
        }
        if let held = byID[record.id] { byHash[held.hash] = nil }
        byID[record.id] = record
        byHash[record.hash] = record.id
    }

    /// The live key whose text is `presented`, if any.
    public func key(presented: String) -> APIKey? {
        guard presented.hasPrefix(APIKey.prefix), presented.utf8.count <= 256 else { return nil }
        guard let id = byHash[APIKey.hash(of: presented)], let key = byID[id], key.revokedAt == nil else { return nil }
        return key
    }

    public subscript(id: String) -> APIKey? { byID[id] }

    /// Every key, revoked ones included, sorted by creation time.
    public var all: [APIKey] { byID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
}
