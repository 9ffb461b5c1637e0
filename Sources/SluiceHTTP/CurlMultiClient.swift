import CCurl
import Foundation
import SluiceCore

/// Many concurrent webhook POSTs on one thread: libcurl multi handles that reuse
/// connections per host (HTTP/1.1 keep-alive, HTTP/2 multiplexing where offered), one per
/// ``Pool``.
///
/// Callers hand a request to ``post(_:pool:completion:)`` (or await ``post(_:)``); the
/// request is queued, the loop thread is woken, adds it to its pool's multi handle when the
/// pool's ``TransferWindow`` has room (young transfers are bounded by a limit that adapts to the
/// loop's load; requests past it wait in order, their latency and timeout not yet
/// running), and drives the
/// transfers with `curl_multi_socket_action`, handing curl only the sockets epoll reports
/// ready (``CurlSocketEvents``), so a wake-up costs the same with ten or ten thousand
/// requests in flight. A finished transfer calls its completion on the loop thread (no task
/// switch per request; dispatch concludes a delivery right there). Redirects are never
/// followed; TLS is verified; the response body is read but only an excerpt kept.
///
/// Pools: each has its own connections, bounds and window, so requests of one kind (dispatch's
/// slow and failing endpoints) never share connections with another's. Within a pool,
/// requests are spread by URL over its shards (``Pool/shards``: multi handles of their own
/// connections), as libcurl (7.88) pays, for each request, for connections open in its multi
/// handle (see ``CurlPool``). One thread drives them all: a second thread cost a second
/// malloc arena (about 10 MiB of peak RSS in dispatch's mixed run) and bought nothing the
/// pools do not.
///
/// Invariant: only the loop thread touches the multi handles and the easy handles they own;
/// a request goes to pool `min(max(pool, 0), pools.count - 1)`.
///
/// ```swift
/// let client = CurlMultiClient(maxConnections: 512)
/// switch await client.post(request) { case .success(let r): r.status; case .failure(let e): e.errorClass }
/// let two = CurlMultiClient(pools: [.init(maxConnections: 2_000), .init(maxConnections: 500)])
/// two.post(request, pool: endpointIsSlow ? 1 : 0) { result in ... }
/// client.shutdown()
/// ```
public final class CurlMultiClient: Sendable {
    /// What a finished transfer calls, on the loop thread: keep it short and never block
    /// (it may hand the client another request).
    public typealias Completion = @Sendable (Result<WebhookResponse, WebhookTransferError>) -> Void

    /// One connection pool's bounds.
    public struct Pool: Sendable {
        /// Open connections at most, over all hosts (kept open between requests too), and
        /// the transfers under way at most.
        public var maxConnections: Int
        /// Idle connections kept open for reuse at most, beyond those in use (nil: up to
        /// `maxConnections` in all); each kept connection costs its buffers (about 19 KiB,
        /// 65 over HTTPS). A connection given back past it closes the oldest idle one.
        public var maxIdleConnections: Int?
        /// Per host (0 = no limit beyond the total).
        public var maxConnectionsPerHost: Int
        /// How many young transfers run at once (nil: ``TransferWindow/Config``'s defaults,
        /// up to `maxConnections`; a given ceiling is capped by it too).
        public var window: TransferWindow.Config?
        /// Multi handles (connection caches) the pool's requests are spread over (at least
        /// 1): the pool's window and waiting queue are shared, its idle connections are
        /// shared out (`maxIdleConnections` / `shards` each), and `maxConnections` and
        /// `maxConnectionsPerHost` hold in each. More shards make libcurl's walks over open
        /// connections shorter (``CurlPool``). A host's requests take one shard until it has
        /// `hostSpillAt` transfers under way at once, then spread by URL (requests to one
        /// URL always take the same shard); see ``ConnectionShards``.
        public var shards: Int
        /// Transfers to one host under way at once from which its requests spread over every
        /// shard by URL, for the pool's life (below it, the host's endpoints share connections).
        public var hostSpillAt: Int

        public init(
            maxConnections: Int = 1024, maxIdleConnections: Int? = nil, maxConnectionsPerHost: Int = 0, window: TransferWindow.Config? = nil,
            shards: Int = 1, hostSpillAt: Int = 64
        ) {
            (self.maxConnections, self.maxIdleConnections) = (maxConnections, maxIdleConnections)
            (self.maxConnectionsPerHost, self.window, self.shards) = (maxConnectionsPerHost, window, shards)
            self.hostSpillAt = hostSpillAt
        }

        /// `shards`, at least 1.
        var resolvedShards: Int { max(1, shards) }

        /// The window, within `1...maxConnections`.
        var resolvedWindow: TransferWindow.Config {
            var resolved = window ?? TransferWindow.Config()
            if window == nil { resolved.ceiling = maxConnections }
            resolved.ceiling = max(1, min(resolved.ceiling, maxConnections))
            resolved.floor = max(1, min(resolved.floor, resolved.ceiling))
            return resolved
        }
    }

    /// Requests queued since the loop last looked (with their pool), and every request
    /// queued so far by pool (counted under the same lock as the queue: no second lock per
    /// request).
    private let pending: Locked<(queue: [PendingRequest], posted: [Int])>
    private let stopping = Locked(false)
    private let snapshot: Locked<[Load]>
    private let pools: [Pool]
    private let caFile: String?
    private let done = DispatchSemaphore(value: 0)
    private let events = CurlSocketEvents()

    /// What a pool (or the client) holds, as of the loop's last turn.
    public struct Load: Sendable, Equatable {
        /// The window's limit on young transfers now.
        public var limit = 0
        public var young = 0
        /// Transfers running past the window's `parkAfter` (slow answers, black holes).
        public var parked = 0
        /// Requests waiting for room in the window.
        public var waiting = 0
        /// Transfers under way.
        public var inFlight: Int { young + parked }

        static func + (a: Load, b: Load) -> Load {
            Load(limit: a.limit + b.limit, young: a.young + b.young, parked: a.parked + b.parked, waiting: a.waiting + b.waiting)
        }
    }

    /// One pool (see ``Pool`` for the parameters).
    public convenience init(maxConnections: Int = 1024, maxIdleConnections: Int? = nil, maxConnectionsPerHost: Int = 0, window: TransferWindow.Config? = nil) {
        self.init(pools: [Pool(maxConnections: maxConnections, maxIdleConnections: maxIdleConnections, maxConnectionsPerHost: maxConnectionsPerHost, window: window)])
    }

    /// - Parameters:
    ///   - pools: at least one (an empty list gets one of default bounds).
    ///   - caFile: a PEM file of the CA certificates servers are verified against, in place
    ///     of the system's bundle (endpoints behind a private CA); nil: the system's.
    public init(pools: [Pool], caFile: String? = nil) {
        CurlGlobal.initialize()
        self.pools = pools.isEmpty ? [Pool()] : pools
        self.caFile = caFile
        pending = Locked(([], Array(repeating: 0, count: self.pools.count)))
        snapshot = Locked(Array(repeating: Load(), count: self.pools.count))
        let thread = Thread { [self] in
            ThreadName.set("sluice.http")
            loop()
        }
        thread.start()
    }

    /// How many pools requests can go to.
    public var poolCount: Int { pools.count }

    /// Transfers under way.
    public var inFlight: Int { load.inFlight }

    /// Requests handed to ``post(_:pool:completion:)`` for `pool` (nil: for any) since the
    /// client was made.
    public func requestsPosted(pool: Int? = nil) -> Int {
        pending.withLock { pending in pool.map { pending.posted[clamp($0)] } ?? pending.posted.reduce(0, +) }
    }

    /// The windows and the transfers of every pool, added up, as of the loop's last turn.
    public var load: Load { snapshot.withLock { $0.reduce(Load(), +) } }

    /// Pool `pool`'s window and transfers, as of the loop's last turn.
    public func load(pool: Int) -> Load { snapshot.withLock { $0[clamp(pool)] } }

    /// POSTs `request` (in pool 0) and waits for the answer or the failure.
    public func post(_ request: WebhookRequest) async -> Result<WebhookResponse, WebhookTransferError> {
        await withCheckedContinuation { continuation in
            post(request) { continuation.resume(returning: $0) }
        }
    }

    /// POSTs `request` over pool `pool`'s connections (the last pool if there are fewer);
    /// `completion` gets the answer or the failure on the loop thread (at once, on the
    /// caller's thread, if the client is shut down).
    public func post(_ request: WebhookRequest, pool: Int = 0, completion: @escaping Completion) {
        let pool = clamp(pool)
        // The loop takes the whole queue at once: only the first request queued since it
        // last looked needs to wake it (one eventfd write per poll batch, not per request).
        let queued = stopping.withLock { stopped -> Int? in
            guard !stopped else { return nil }
            return pending.withLock { pending in
                pending.queue.append(PendingRequest(request: request, completion: completion, pool: pool))
                pending.posted[pool] += 1
                return pending.queue.count
            }
        }
        guard let queued else {
            completion(.failure(.abandoned("the HTTP client is shut down", latency: .zero)))
            return
        }
        if queued == 1 { events.wake() }
    }

    /// Fails every transfer still under way (and every request still waiting) as
    /// abandoned (``WebhookTransferError/isAbandoned``) and stops the loop thread.
    public func shutdown() {
        let first = stopping.withLock { stopped -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        events.wake()
        done.wait()
    }

    private func clamp(_ pool: Int) -> Int { max(0, min(pool, pools.count - 1)) }

    /// Everything queued since the loop last looked, into its pool's waiting queue.
    private func takePending(into pools: [CurlPool]) {
        let queue = pending.withLock { pending in defer { pending.queue = [] }; return pending.queue }
        for request in queue { pools[request.pool].waiting.append(request) }
    }

    private func loop() {
        var pools: [CurlPool] = []
        for (index, config) in self.pools.enumerated() {
            pools.append(CurlPool(config, index: index, firstHandle: pools.last.map { $0.firstHandle + $0.shardCount } ?? 0, events: events))
        }
        // Which pool and shard each multi handle number is (``CurlSocketEvents`` reports those).
        let route = pools.flatMap { pool in (0..<pool.shardCount).map { (pool: pool, shard: $0) } }
        var handles = CurlEasyPool(caFile: caFile)
        while !stopping.withLock({ $0 }) {
            takePending(into: pools)
            var now = DispatchTime.now().uptimeNanoseconds
            // Requests left waiting: look again when the oldest young transfer of their pool
            // parks (those just added included).
            var cap: Int32 = 1000
            for pool in pools {
                _ = pool.window.age(now: now)
                pool.start(now: now, handles: &handles)
                guard !pool.waiting.isEmpty else { continue }
                cap = min(cap, pool.window.age(now: now).map { Int32(min(1000, ($0 + 999_999) / 1_000_000)) } ?? 1000)
            }
            let slept = DispatchTime.now().uptimeNanoseconds
            let (ready, timersDue) = events.wait(cap: cap)
            let woke = DispatchTime.now().uptimeNanoseconds
            for socket in ready { route[socket.handle].pool.act(on: socket.socket, flags: socket.flags, shard: route[socket.handle].shard) }
            for handle in timersDue { route[handle].pool.timeout(shard: route[handle].shard) }
            for pool in pools { pool.complete(handles: &handles) }
            now = DispatchTime.now().uptimeNanoseconds
            for pool in pools { pool.observe(idle: woke - slept, busy: now - woke, now: now) }
            snapshot.withLock { loads in for pool in pools { loads[pool.index] = pool.load } }
        }
        takePending(into: pools)
        for pool in pools { pool.close(handles: &handles) }
        handles.drain()
        snapshot.withLock { $0 = Array(repeating: Load(), count: pools.count) }
        done.signal()
    }
}

/// `curl_global_init`, once per process, before any other curl call.
enum CurlGlobal {
    private static let once: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
    static func initialize() { _ = once }
}
