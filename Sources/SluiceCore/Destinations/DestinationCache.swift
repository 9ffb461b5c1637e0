/// Endpoint URLs checked against a ``DestinationPolicy`` and resolved, kept for a while:
/// dispatch asks for every delivery, and resolving (a blocking `getaddrinfo`, run on
/// another thread) and parsing the URL each time cost more than the request to a fast
/// receiver.
///
/// Invariant: an answer is at most ``ttl`` old (a refusal or a failed lookup at most
/// ``failureTTL``), so a host that changes its addresses is checked again within the TTL,
/// and every request still connects to the address that was checked (the answer pins
/// it). At most ``capacity`` URLs are kept; past that the table starts afresh.
///
/// ```swift
/// let cache = DestinationCache(policy: policy, resolver: SystemResolver())
/// let target = try cache.cached(url) ?? (try await OffPool.run { cache.resolve(url) }).get()
/// ```
public final class DestinationCache: Sendable {
    public let policy: DestinationPolicy
    public let resolver: any HostResolver
    public let ttl: Duration
    public let failureTTL: Duration
    public let capacity: Int

    private struct Entry: Sendable {
        let answer: Result<ResolvedDestination, DestinationError>
        let expires: ContinuousClock.Instant
    }

    private let entries = Locked<[String: Entry]>([:])

    public init(policy: DestinationPolicy, resolver: any HostResolver, ttl: Duration = .seconds(60), failureTTL: Duration = .seconds(5), capacity: Int = 20_000) {
        self.policy = policy
        self.resolver = resolver
        self.ttl = ttl
        self.failureTTL = min(failureTTL, ttl)
        self.capacity = max(1, capacity)
    }

    /// The answer for `url` if one is fresh: no parsing, no lookup, no thread hop.
    public func cached(_ url: String, now: ContinuousClock.Instant = .now) -> Result<ResolvedDestination, DestinationError>? {
        entries.withLock { entries in
            guard let entry = entries[url], now < entry.expires else { return nil }
            return entry.answer
        }
    }

    /// Checks and resolves `url` (blocking: call it off the cooperative pool) and keeps
    /// the answer: the destination for ``ttl``, a refusal or failed lookup for
    /// ``failureTTL`` (a dead name costs one lookup per few seconds, not one per delivery).
    public func resolve(_ url: String, now: ContinuousClock.Instant = .now) -> Result<ResolvedDestination, DestinationError> {
        let answer: Result<ResolvedDestination, DestinationError>
        do throws(DestinationError) { answer = .success(try policy.resolve(url, resolver: resolver)) } catch { answer = .failure(error) }
        let expires = now + (answer.isSuccess ? ttl : failureTTL)
        entries.withLock { entries in
            if entries.count >= capacity, entries[url] == nil { entries.removeAll(keepingCapacity: true) }
            entries[url] = Entry(answer: answer, expires: expires)
        }
        return answer
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
