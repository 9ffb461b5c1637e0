/// The event id an `Idempotency-Key` stands for: derived from the tenant, the key and the
/// event's place in the request, so a repeated request gives the same ids on any admin
/// replica, and receivers (who deduplicate on `webhook-id`) see one event.
///
/// Invariant: the same (tenant, key, index) always gives the same id; different tenants'
/// equal keys give different ids. Ids are `evt_` and 32 hex digits.
///
/// ```swift
/// IdempotentEventID.make(tenant: "acme", key: "order-42", index: 0)   // "evt_3f…"
/// ```
public enum IdempotentEventID {
    public static func make(tenant: String, key: String, index: Int) -> String {
        let material = "sluice-idempotency-v1\n\(tenant.utf8.count):\(tenant)\n\(key.utf8.count):\(key)\n\(index)"
        return "evt_" + WebhookSigner.sha256Hex(Array(material.utf8)).prefix(32)
    }
}
