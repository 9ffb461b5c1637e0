import Foundation

/// A change to an endpoint's settings, as the CLI's flags and the admin API's JSON give it:
/// one set of checks for both, so both refuse the same things with the same words.
///
/// Invariant: ``apply(to:destinations:)`` either changes the endpoint into one that passes
/// ``Endpoint/validate()`` and whose URL the destination policy accepts, or throws and
/// leaves it as it was. It does not touch `revision` or `updatedAt` (the writer does).
///
/// ```swift
/// var change = EndpointChange()
/// change.url = "https://hooks.acme.test/v2"
/// change.timeout = "5s"
/// try change.apply(to: &endpoint, destinations: delivery.destinations)
/// ```
public struct EndpointChange: Sendable, Equatable {
    public var url: String?
    /// Event type patterns: exact, `prefix.*` or `*`.
    public var types: [String]?
    public var note: String?
    /// A duration like `10s`.
    public var timeout: String?
    public var rateLimit: Double?
    public var concurrency: Int?
    /// Waits before attempts 1…n, e.g. `0s,1m,10m`.
    public var schedule: String?
    /// Headers to set.
    public var headers: [String: String] = [:]
    /// Headers to stop sending.
    public var removedHeaders: [String] = []

    public init() {}

    public func apply(to endpoint: inout Endpoint, destinations: DestinationPolicy) throws(EndpointChangeError) {
        var next = endpoint
        if let url {
            do { _ = try destinations.check(url) } catch { throw .destination(error) }
            next.url = url
        }
        if let types {
            do { next.filter = try EventTypeFilter(types) } catch { throw .invalid(field: "types", problem: error.description) }
        }
        if let note { next.note = note.isEmpty ? nil : note }
        if let timeout {
            guard let parsed = DurationText.parse(timeout), parsed > .zero, parsed <= .milliseconds(Endpoint.Limits.timeoutMs.upperBound)
            else { throw .invalid(field: "timeout", problem: "takes a duration like 10s (at most 10m)") }
            next.timeoutMs = Int(parsed.components.seconds * 1000 + parsed.components.attoseconds / 1_000_000_000_000_000)
        }
        if let rateLimit {
            guard rateLimit.isFinite, Endpoint.Limits.rateLimit.contains(rateLimit) else {
                throw .invalid(field: "rate_limit", problem: "takes a number of requests per second > 0 (at most 1000000)")
            }
            next.rateLimit = rateLimit
        }
        if let concurrency {
            guard Endpoint.Limits.concurrency.contains(concurrency) else {
                throw .invalid(field: "concurrency", problem: "takes a number > 0 (at most 10000)")
            }
            next.concurrency = concurrency
        }
        if let schedule {
            do { _ = try RetrySchedule(parsing: schedule) } catch { throw .invalid(field: "schedule", problem: error.description) }
            next.schedule = schedule
        }
        for (name, value) in headers { next.headers[name] = value }
        for name in removedHeaders { next.headers[name] = nil }
        do throws(WireError) { try next.validate() } catch { throw .invalid(field: "endpoint", problem: error.problem) }
        endpoint = next
    }
}

/// Why an ``EndpointChange`` was refused: the destination policy refused the URL, or a
/// field is out of bounds (`field` is its JSON name: `timeout`, `rate_limit`, `types`, …).
public enum EndpointChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    case destination(DestinationError)
    case invalid(field: String, problem: String)

    public var description: String {
        switch self {
        case .destination(let error): return error.description
        case .invalid(let field, let problem): return "\(field) \(problem)"
        }
    }
}
