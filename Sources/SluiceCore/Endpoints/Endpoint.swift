import Foundation

/// A webhook destination of one tenant, as stored (key = id) in `sluice.endpoints`.
///
/// Invariant: secrets are stored sealed (``SecretBox``), never in clear; `version` grows
/// by one with every change, so a reader can tell a stale record from a newer one.
///
/// ```swift
/// var endpoint = Endpoint(id: "ep_1", tenant: "acme", url: "https://hooks.acme.test/in",
///                         filter: try EventTypeFilter(parsing: "order.*"), sealedSecret: box.seal(secret, endpointID: "ep_1"))
/// endpoint.enabled = false
/// ```
public struct Endpoint: WireRecord, Equatable {
    public static let kind = "endpoint"
    public static let version = 1
    public static let knownKeys: Set<String> = [
        "id", "tenant", "url", "enabled", "filter", "sealed_secret", "previous_secret", "timeout_ms", "schedule",
        "rate_limit", "concurrency", "headers", "created_at", "updated_at", "revision", "disabled_reason", "description",
    ]

    /// The secret of a rotation that is still signed with, until `expiresAt`.
    public struct PreviousSecret: Codable, Sendable, Equatable {
        public var sealed: String
        public var expiresAt: Date
        public init(sealed: String, expiresAt: Date) {
            self.sealed = sealed
            self.expiresAt = expiresAt
        }
        enum CodingKeys: String, CodingKey { case sealed, expiresAt = "expires_at" }
    }

    public var id: String
    public var tenant: String
    public var url: String
    public var enabled: Bool
    public var filter: EventTypeFilter
    public var sealedSecret: String
    public var previousSecret: PreviousSecret?
    /// Request timeout; nil uses the stage's default (15 s).
    public var timeoutMs: Int?
    /// Waits before attempts 1…n (e.g. `0s,1m,10m`); nil uses the global schedule.
    public var schedule: String?
    /// Requests per second at most; nil is unlimited.
    public var rateLimit: Double?
    /// Requests in flight at most; nil uses the stage's default.
    public var concurrency: Int?
    /// Extra headers sent with every request.
    public var headers: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
    public var revision: Int
    /// Why the endpoint was disabled (`410 Gone`, failing for 5 days, an operator).
    public var disabledReason: String?
    /// What the endpoint is for, in the tenant's words (JSON `description`).
    public var note: String?
    public var extra: [String: JSONValue] = [:]

    public init(
        id: String, tenant: String, url: String, filter: EventTypeFilter, sealedSecret: String, enabled: Bool = true,
        now: Date = Date()
    ) {
        self.id = id
        self.tenant = tenant
        self.url = url
        self.enabled = enabled
        self.filter = filter
        self.sealedSecret = sealedSecret
        self.headers = [:]
        self.createdAt = now
        self.updatedAt = now
        self.revision = 1
    }

    /// The request timeout: its own, or `stageDefault`.
    public func requestTimeout(default stageDefault: Duration) -> Duration {
        timeoutMs.map { .milliseconds($0) } ?? stageDefault
    }

    /// The secrets to sign with at `now`: the current one, and the previous one until it expires.
    public func signingSecrets(box: SecretBox, now: Date) throws(SecretBoxError) -> [Secret] {
        try signingSecrets(now: now) { sealed throws(SecretBoxError) in try box.open(sealed, endpointID: id) }
    }

    /// The same, each sealed secret opened by `open` (dispatch keeps what it opened).
    public func signingSecrets(now: Date, open: (String) throws(SecretBoxError) -> Secret) throws(SecretBoxError) -> [Secret] {
        var secrets = [try open(sealedSecret)]
        if let previous = previousSecret, previous.expiresAt > now {
            secrets.append(try open(previous.sealed))
        }
        return secrets
    }

    /// Starts signing with `sealed` (a new secret sealed for this endpoint); the current
    /// secret goes on signing beside it until `now + overlap`, so receivers can switch
    /// without rejecting a webhook. A new revision.
    ///
    /// ```swift
    /// endpoint.rotateSecret(to: box.seal(.generate(), endpointID: endpoint.id), overlap: .seconds(86_400), now: Date())
    /// ```
    public mutating func rotateSecret(to sealed: String, overlap: Duration, now: Date) {
        previousSecret = overlap > .zero ? PreviousSecret(sealed: sealedSecret, expiresAt: now.addingTimeInterval(overlap.timeInterval)) : nil
        sealedSecret = sealed
        revision += 1
        updatedAt = now
    }

    /// Bounds of the settings an endpoint may carry (the CLI and the admin API check the
    /// same through ``validate()``).
    public enum Limits {
        public static let urlBytes = 2048
        public static let timeoutMs: ClosedRange<Int> = 1...600_000
        public static let concurrency: ClosedRange<Int> = 1...10_000
        public static let rateLimit: ClosedRange<Double> = 0.001...1_000_000
        public static let headers = 64
        public static let filterPatterns = 256
        public static let noteBytes = 1024
    }

    public func validate() throws(WireError) {
        let check = WireCheck(kind: Self.kind)
        try check.id(id, "id")
        try check.id(tenant, "tenant")
        guard !url.isEmpty else { throw check.fail("url", "empty") }
        try check.text(url, "url", maxBytes: Limits.urlBytes)
        try check.text(sealedSecret, "sealed_secret", maxBytes: 4096)
        if let previousSecret {
            try check.text(previousSecret.sealed, "previous_secret.sealed", maxBytes: 4096)
            try check.time(previousSecret.expiresAt, "previous_secret.expires_at")
        }
        if let timeoutMs { try check.number(timeoutMs, "timeout_ms", in: Limits.timeoutMs) }
        if let schedule {
            try check.text(schedule, "schedule", maxBytes: 4096)
            do { _ = try RetrySchedule(parsing: schedule) } catch { throw check.fail("schedule", error.description) }
        }
        if let rateLimit { try check.number(rateLimit, "rate_limit", in: Limits.rateLimit) }
        if let concurrency { try check.number(concurrency, "concurrency", in: Limits.concurrency) }
        try check.count(headers.count, "headers", max: Limits.headers)
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.count <= 256, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw check.fail("headers", "\(name.truncated(toBytes: 40)) is not a header name")
            }
            guard value.utf8.count <= 8192, !value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) else {
                throw check.fail("headers", "the value of \(name) is too long or holds a line break")
            }
        }
        try check.count(filter.patterns.count, "filter", max: Limits.filterPatterns)
        for pattern in filter.patterns { try check.text(pattern, "filter", maxBytes: WireCheck.maxIDBytes) }
        try check.time(createdAt, "created_at")
        try check.time(updatedAt, "updated_at")
        try check.number(revision, "revision", in: 1...(1 << 53))
        if let disabledReason { try check.text(disabledReason, "disabled_reason", maxBytes: 4096) }
        if let note { try check.text(note, "description", maxBytes: Limits.noteBytes) }
    }

    /// An HTTP token character (RFC 9110), as header names are made of.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// A new id: `ep_` and 20 random base32 characters.
    public static func newID() -> String { "ep_" + RandomID.make(length: 20) }

    enum CodingKeys: String, CodingKey {
        case id, tenant, url, enabled, filter, headers, schedule, concurrency, revision
        case sealedSecret = "sealed_secret", previousSecret = "previous_secret", timeoutMs = "timeout_ms"
        case rateLimit = "rate_limit", createdAt = "created_at", updatedAt = "updated_at"
        case disabledReason = "disabled_reason", note = "description"
    }
}

/// Why an endpoint change is refused.
public enum EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidFilter(String)
    case invalidURL(String)

    public var description: String {
        switch self {
        case .invalidFilter(let why): return "invalid event type filter: \(why)"
        case .invalidURL(let why): return "invalid endpoint URL: \(why)"
        }
    }
}

/// Random ids from a lowercase base32 alphabet.
public enum RandomID {
    public static func make(length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next() % 32)] })
    }
}
