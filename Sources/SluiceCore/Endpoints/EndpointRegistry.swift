/// Every endpoint, built from the records of `sluice.endpoints`, answering "which enabled
/// endpoints of tenant T take event type X" without scanning other tenants' endpoints.
///
/// Per tenant it keeps three indexes of enabled endpoints: by exact type, by prefix
/// (`order.*` under `order.`), and those taking every type. A lookup costs one hash
/// probe per dot in the type plus the size of the answer.
///
/// Invariant: an endpoint is in the indexes exactly when it is known and enabled, under
/// exactly its filter's patterns. A record older than the one held (lower `revision`)
/// is ignored.
///
/// ```swift
/// var registry = EndpointRegistry()
/// try registry.apply(key: "ep_1", value: bytes)        // a tombstone (nil) deletes
/// registry.endpoints(tenant: "acme", type: "order.created")
/// ```
public struct EndpointRegistry: Sendable {
    private struct TenantIndex: Sendable {
        var exact: [String: Set<String>] = [:]
        var prefix: [String: Set<String>] = [:]
        var all: Set<String> = []
        var isEmpty: Bool { exact.isEmpty && prefix.isEmpty && all.isEmpty }
    }

    private var byID: [String: Endpoint] = [:]
    private var tenants: [String: TenantIndex] = [:]

    public init() {}

    /// Every known endpoint, enabled or not.
    public var count: Int { byID.count }

    public subscript(id: String) -> Endpoint? { byID[id] }

    /// Every known endpoint, sorted by tenant and id.
    public var all: [Endpoint] { byID.values.sorted { ($0.tenant, $0.id) < ($1.tenant, $1.id) } }

    /// Applies one record of `sluice.endpoints`: a value upserts, nil (a tombstone) deletes.
    /// Throws, changing nothing, when the value is not an endpoint or its key differs.
    public mutating func apply(key: String, value: [UInt8]?) throws(WireError) {
        guard let value else {
            remove(id: key)
            return
        }
        let endpoint = try Endpoint(wireBytes: value)
        guard endpoint.id == key else {
            throw WireError(kind: Endpoint.kind, problem: "record key \(key) differs from its id \(endpoint.id)")
        }
        upsert(endpoint)
    }

    /// Adds or replaces an endpoint (ignored when older than the one held).
    public mutating func upsert(_ endpoint: Endpoint) {
        if let held = byID[endpoint.id] {
            guard endpoint.revision >= held.revision else { return }
            unindex(held)
        }
        byID[endpoint.id] = endpoint
        if endpoint.enabled { index(endpoint) }
    }

    /// The master key ids the endpoints' current secrets are sealed under.
    public var sealingKeyIDs: Set<String> {
        Set(byID.values.compactMap { SecretBox.keyID(ofSealed: $0.sealedSecret) })
    }

    public mutating func remove(id: String) {
        guard let held = byID.removeValue(forKey: id) else { return }
        unindex(held)
    }

    /// The enabled endpoints of `tenant` whose filter takes `type`, sorted by id.
    public func endpoints(tenant: String, type: String) -> [Endpoint] {
        guard let index = tenants[tenant] else { return [] }
        var ids = index.all
        // Each index is asked only when it has entries (a tenant's endpoints often take all
        // types, or only exact ones): one hash of the type, or of a prefix, fewer per event.
        if !index.exact.isEmpty, let exact = index.exact[type] { ids.formUnion(exact) }
        if !index.prefix.isEmpty {
            var dot = type.startIndex
            while let next = type[dot...].firstIndex(of: ".") {
                if let prefixed = index.prefix[String(type[...next])] { ids.formUnion(prefixed) }
                dot = type.index(after: next)
            }
        }
        return ids.sorted().compactMap { byID[$0] }
    }

    private mutating func index(_ endpoint: Endpoint) {
        var index = tenants[endpoint.tenant] ?? TenantIndex()
        for pattern in endpoint.filter.patterns {
            if pattern == "*" {
                index.all.insert(endpoint.id)
            } else if pattern.hasSuffix(".*") {
                index.prefix[String(pattern.dropLast()), default: []].insert(endpoint.id)
            } else {
                index.exact[pattern, default: []].insert(endpoint.id)
            }
        }
        tenants[endpoint.tenant] = index
    }

    private mutating func unindex(_ endpoint: Endpoint) {
        guard var index = tenants[endpoint.tenant] else { return }
        index.all.remove(endpoint.id)
        for pattern in endpoint.filter.patterns {
            let key = pattern.hasSuffix(".*") ? String(pattern.dropLast()) : pattern
            index.prefix[key]?.remove(endpoint.id)
            if index.prefix[key]?.isEmpty == true { index.prefix[key] = nil }
            index.exact[key]?.remove(endpoint.id)
            if index.exact[key]?.isEmpty == true { index.exact[key] = nil }
        }
        tenants[endpoint.tenant] = index.isEmpty ? nil : index
    }
}
