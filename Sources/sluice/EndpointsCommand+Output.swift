import Foundation
import SluiceCore
import SluiceStage

/// How endpoints are shown: a table, or JSON (never the sealed secret).
enum EndpointOutput {
    static func view(_ e: Endpoint) -> [String: Any] {
        var v: [String: Any] = [
            "id": e.id, "tenant": e.tenant, "url": e.url, "enabled": e.enabled, "types": e.filter.patterns,
            "revision": e.revision, "created_at": e.createdAt.formatted(.iso8601), "headers": e.headers,
        ]
        if let t = e.timeoutMs { v["timeout_ms"] = t }
        if let r = e.rateLimit { v["rate_limit"] = r }
        if let s = e.schedule { v["schedule"] = s }
        if let d = e.disabledReason { v["disabled_reason"] = d }
        if let n = e.note { v["description"] = n }
        return v
    }

    static func print(_ endpoints: [Endpoint], json: Bool, secret: Secret?) {
        if json {
            var object: Any = endpoints.count == 1 && secret != nil ? view(endpoints[0]) : endpoints.map(view)
            if let secret, var single = object as? [String: Any] {
                single["secret"] = secret.encoded
                object = single
            }
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            Swift.print(String(decoding: data, as: UTF8.self))
            return
        }
        Swift.print(Table.render(
            header: ["ID", "TENANT", "STATE", "TYPES", "URL"],
            rows: endpoints.map { [$0.id, $0.tenant, $0.enabled ? "enabled" : "disabled", "\($0.filter)", $0.url] }))
        if let secret {
            Swift.print("secret: \(secret.encoded)  (shown once: store it now; receivers verify signatures with it)")
        } else {
            Swift.print("\(endpoints.count) endpoint\(endpoints.count == 1 ? "" : "s")")
        }
    }
}
