import Foundation

/// A CloudEvents 1.0 event as Sluice delivers it.
///
/// Invariant: `id`, `source`, `type` and `tenant` are non-empty, `specVersion` is
/// `1.0`, and `body` is the event in CloudEvents structured JSON: the record's exact
/// bytes for a structured-mode record, or built once from a binary-mode record. The
/// body is the webhook's body, the same bytes on every attempt.
///
/// ```swift
/// switch EventDecoder(maxBytes: 256 * 1024).decode(key: key, value: value, headers: headers) {
/// case .success(let event): …
/// case .failure(let rejection): // to sluice.rejected with rejection.reason
/// }
/// ```
public struct Event: Sendable, Equatable {
    public var id: String
    public var source: String
    public var type: String
    public var specVersion: String
    public var tenant: String
    public var subject: String?
    public var time: String?
    public var body: [UInt8]

    public init(
        id: String, source: String, type: String, tenant: String, body: [UInt8], specVersion: String = "1.0",
        subject: String? = nil, time: String? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.tenant = tenant
        self.body = body
        self.specVersion = specVersion
        self.subject = subject
        self.time = time
    }

    /// A structured-mode event with `data` as JSON (for the CLI and tests).
    public static func structured(
        id: String, source: String, type: String, tenant: String, data: JSONValue, time: Date? = nil
    ) -> Event {
        var object: [String: JSONValue] = [
            "specversion": .string("1.0"), "id": .string(id), "source": .string(source), "type": .string(type),
            "tenant": .string(tenant), "datacontenttype": .string("application/json"), "data": data,
        ]
        let timeText = time.map { $0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
        if let timeText { object["time"] = .string(timeText) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Array((try? encoder.encode(object)) ?? Data())
        return Event(id: id, source: source, type: type, tenant: tenant, body: body, time: timeText)
    }
}

/// Why a record of `sluice.events` is not a deliverable event; the fanout writes it to
/// `sluice.rejected` with ``code`` and ``description`` as reason headers.
public enum EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case oversize(bytes: Int, limit: Int)
    case unparseable(String)
    case missingAttribute(String)
    case unsupportedSpecVersion(String)
    case missingTenant
    /// An attribute Sluice keys or routes by is too long or holds control characters.
    case invalidAttribute(String, why: String)

    /// A stable machine-readable reason, e.g. `missing_attribute`.
    public var code: String {
        switch self {
        case .oversize: return "oversize"
        case .unparseable: return "unparseable"
        case .missingAttribute: return "missing_attribute"
        case .unsupportedSpecVersion: return "unsupported_specversion"
        case .missingTenant: return "missing_tenant"
        case .invalidAttribute: return "invalid_attribute"
        }
    }

    public var description: String {
        switch self {
        case .oversize(let bytes, let limit): return "event is \(bytes) bytes, over the \(limit)-byte limit"
        case .unparseable(let why): return "event is not a CloudEvent: \(why)"
        case .missingAttribute(let name): return "event has no '\(name)' attribute"
        case .unsupportedSpecVersion(let v): return "specversion '\(v)' is not supported (use 1.0)"
        case .missingTenant: return "event has no tenant: set the record key or the 'tenant' extension attribute"
        case .invalidAttribute(let name, let why): return "event attribute '\(name)' \(why)"
        }
    }
}
