import Foundation

/// One line of an events file (`sluice events publish --file`): a JSON CloudEvent in
/// structured mode, with attributes it lacks filled in from defaults, then checked the
/// way fanout checks a record of `sluice.events`.
///
/// Invariant: a `.success` event passes ``EventDecoder`` unchanged, so fanout will not
/// reject it.
///
/// ```swift
/// let event = try EventLine.parse(#"{"type":"order.created","data":{"n":1}}"#, defaults: .init(tenant: "acme")).get()
/// ```
public enum EventLine {
    /// What a line may leave out.
    public struct Defaults: Sendable {
        public var tenant: String?
        public var type: String?
        public var source: String
        public init(tenant: String? = nil, type: String? = nil, source: String = "/sluice/cli") {
            self.tenant = tenant
            self.type = type
            self.source = source
        }
    }

    public static func parse(_ line: String, defaults: Defaults, decoder: EventDecoder = EventDecoder()) -> Result<Event, EventRejection> {
        guard case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
            return .failure(.unparseable("not a JSON object"))
        }
        object["specversion"] = object["specversion"] ?? .string("1.0")
        object["id"] = object["id"] ?? .string("evt_" + RandomID.make(length: 20))
        object["source"] = object["source"] ?? .string(defaults.source)
        if object["type"] == nil, let type = defaults.type { object["type"] = .string(type) }
        if object["tenant"] == nil, let tenant = defaults.tenant { object["tenant"] = .string(tenant) }
        if object["data"] != nil, object["datacontenttype"] == nil { object["datacontenttype"] = .string("application/json") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(object) else { return .failure(.unparseable("cannot encode the event")) }
        let tenant = object["tenant"]?.stringValue
        return decoder.decode(key: tenant.map { Array($0.utf8) }, value: Array(body), headers: [:])
    }
}
