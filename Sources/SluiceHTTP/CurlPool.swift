import CCurl
import Foundation
import SluiceCore

/// One connection pool of ``CurlMultiClient``: its libcurl multi handles (its shards: each
/// with its own connections; bounds shared), the ``TransferWindow`` over its young
/// transfers, its transfers under way and the requests waiting for room. The client's loop
/// thread drives every pool of the client from one epoll set (``CurlSocketEvents``), so a
/// second pool or shard costs no thread.
///
/// Why shards: libcurl (7.88) walks connections in two places per request. To start one,
/// it looks for an idle connection to the host among every connection to that host, in use
/// or not (`ConnectionExists`); when a finished transfer leaves the multi handle,
/// `curl_multi_remove_handle` walks the whole connection cache for the one the transfer
/// used (to close it if it was `CONNECT_ONLY`). Both grow with the connections open, and
/// slow endpoints keep many open. A request's shard is its host's until the host holds many
/// transfers at once, then its URL's (``ConnectionShards``), so with `n` shards each walk
/// covers about a `1/n` share and a host of few endpoints still shares its connections.
/// Measured (the bench's mixed run: 5,000 endpoints on one host, a fifth slow, failing or
/// black holes; `perf` on dispatch): the two walks were a fifth of dispatch's samples with
/// one shard.
///
/// Invariant: only the client's loop thread touches it; every easy handle in `active` is
/// in the multi handle of its shard, and its transfer is retained until it is taken out.
///
/// ```swift
/// let pool = CurlPool(config, index: 0, firstHandle: 0, events: events)
/// pool.start(now: now, handles: &handles)     // as many waiting requests as the window has room for
/// pool.act(on: socket, flags: flags, shard: 0) // a socket of the pool's shard 0 is ready
/// pool.complete(handles: &handles)            // calls the completions of what finished
/// ```
final class CurlPool {
    let index: Int
    /// The client's number of this pool's first multi handle (shard `k` is `firstHandle + k`).
    let firstHandle: Int
    private var shards: [Shard]
    var window: TransferWindow
    var waiting = RequestQueue()
    private var picker: ConnectionShards
    private var pins: PinnedHosts
    private var active: [UnsafeMutableRawPointer: (transfer: Unmanaged<CurlTransfer>, ticket: TransferWindow.Ticket, pick: ConnectionShards.Pick)] = [:]
    /// Ready sockets and answers of this pool in the loop's current turn.
    private var handled = 0
    private let maxConnections: Int
    /// Idle connections kept beyond those in use, per shard (the pool's
    /// ``CurlMultiClient/Pool/maxIdleConnections`` shared out).
    private let idleKept: Int

    /// One multi handle of the pool and what the pool knows of it.
    private struct Shard {
        let multi: UnsafeMutableRawPointer
        /// curl's callbacks' context: kept as long as the multi handle (see ``CurlSocketEvents``).
        let source: CurlSocketEvents.Source
        /// Transfers under way in it.
        var active = 0
        /// curl's connection cache size as last set (``CurlPool/sizeCache(_:)``).
        var cacheSize = 0
    }

    init(_ config: CurlMultiClient.Pool, index: Int, firstHandle: Int, events: CurlSocketEvents) {
        (self.index, self.firstHandle) = (index, firstHandle)
        window = TransferWindow(config.resolvedWindow)
        let count = config.resolvedShards
        maxConnections = config.maxConnections
        let idle = config.maxIdleConnections ?? config.maxConnections
        idleKept = idle == 0 ? 0 : max(1, idle / count)
        shards = (0..<count).map { shard in
            let multi = curl_multi_init()!
            sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, config.maxConnections)
            sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, config.maxConnectionsPerHost)
            sluice_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
            return Shard(multi: multi, source: events.install(on: multi, handle: firstHandle + shard))
        }
        picker = ConnectionShards(count: count, spillAt: config.hostSpillAt)
        pins = PinnedHosts(shards: count)
        for shard in shards.indices { sizeCache(shard) }
    }

    /// How many multi handles the pool has.
    var shardCount: Int { shards.count }

    /// Sets a shard's connection cache (`CURLMOPT_MAXCONNECTS`) to its connections in use plus
    /// `idleKept`, within `maxConnections`. libcurl (7.88) counts the connections in use in
    /// its cache: once they pass its size, every connection a transfer gives back closes
    /// the oldest idle one, so with a fixed size, slow requests holding connections made
    /// every other request open a new one (a TLS handshake over HTTPS). By default curl
    /// keeps four per easy handle added, too few with few transfers at once.
    private func sizeCache(_ shard: Int) {
        // At least one: 0 would mean curl's default.
        let size = max(1, min(maxConnections, shards[shard].active + idleKept))
        guard size != shards[shard].cacheSize else { return }
        shards[shard].cacheSize = size
        sluice_curl_multi_setopt_long(shards[shard].multi, CURLMOPT_MAXCONNECTS, size)
    }

    /// What the pool holds now.
    var load: CurlMultiClient.Load {
        CurlMultiClient.Load(limit: window.limit, young: window.young, parked: window.parked, waiting: waiting.count)
    }

    /// Starts waiting requests while the window has room; a request curl refuses fails at once.
    func start(now: UInt64, handles: inout CurlEasyPool) {
        while window.room > 0, let next = waiting.next() {
            let (request, completion) = (next.request, next.completion)
            let secure = CurlTransfer.isSecure(request.url)
            guard let easy = handles.take(secure: secure) else {
                completion(.failure(WebhookTransferError(errorClass: .other, message: "curl_easy_init failed", latency: .zero)))
                continue
            }
            let pick = picker.pick(request.url)
            let shard = pick.shard
            let carryPin = request.resolve.map { pins.mustCarry($0, shard: shard) } ?? false
            let transfer = CurlTransfer(request, easy: easy, secure: secure, carryPin: carryPin, completion: completion)
            let retained = Unmanaged.passRetained(transfer)
            transfer.attach(retained.toOpaque())
            let added = curl_multi_add_handle(shards[shard].multi, transfer.easy)
            guard added == CURLM_OK else {
                // Never left in `active`: curl would never report it done.
                retained.release()
                handles.give(easy, secure: secure)
                picker.finished(pick)
                pinFinished(transfer, shard: shard, code: CURLE_FAILED_INIT)
                let reason = String(cString: curl_multi_strerror(added))
                completion(.failure(WebhookTransferError(errorClass: .other, message: "curl_multi_add_handle failed: \(reason)", latency: .zero)))
                continue
            }
            active[transfer.easy] = (retained, window.started(now: now), pick)
            shards[shard].active += 1
        }
        // Once a turn (the loop calls this every turn), not a setopt per request.
        for shard in shards.indices { sizeCache(shard) }
    }

    /// Feeds the window the loop's turn (idle and busy ns), what this pool handled in it and
    /// whether its requests waited for room; starts the next turn's count.
    func observe(idle: UInt64, busy: UInt64, now: UInt64) {
        window.observe(idle: idle, busy: busy, handled: handled, waited: !waiting.isEmpty, now: now)
        handled = 0
    }

    /// Hands curl a ready socket of shard `shard` of this pool (`flags`: `CURL_CSELECT_*`).
    func act(on socket: curl_socket_t, flags: Int32, shard: Int) {
        var running: Int32 = 0
        curl_multi_socket_action(shards[shard].multi, socket, flags, &running)
        handled += 1
    }

    /// Tells shard `shard`'s curl its timer is due.
    func timeout(shard: Int) {
        var running: Int32 = 0
        curl_multi_socket_action(shards[shard].multi, CURL_SOCKET_TIMEOUT, 0, &running)
    }

    /// Calls the completion of every transfer curl reports done, in every shard.
    func complete(handles: inout CurlEasyPool) {
        var queued: Int32 = 0
        for shard in shards.indices {
            let multi = shards[shard].multi
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let (retained, ticket, pick) = active.removeValue(forKey: easy)
                else { continue }
                window.finished(ticket)
                handled += 1
                let transfer = retained.takeUnretainedValue()
                let outcome = transfer.outcome(message.pointee.data.result)
                pinFinished(transfer, shard: shard, code: message.pointee.data.result)
                curl_multi_remove_handle(multi, easy)
                shards[shard].active -= 1
                picker.finished(pick)
                handles.give(easy, secure: transfer.secure)
                retained.release()
                transfer.completion(outcome)
            }
        }
    }

    private func pinFinished(_ transfer: CurlTransfer, shard: Int, code: CURLcode) {
        if let pin = transfer.pin { pins.finished(pin, shard: shard, carried: transfer.carriesPin, code: code) }
    }

    /// Fails every transfer under way and every request waiting as abandoned, and frees the
    /// multi handles (their connections with them). The pool is not used after.
    func close(handles: inout CurlEasyPool) {
        for (easy, (retained, _, pick)) in active {
            curl_multi_remove_handle(shards[pick.shard].multi, easy)
            let transfer = retained.takeRetainedValue()
            handles.give(easy, secure: transfer.secure)
            transfer.completion(.failure(.abandoned("the HTTP client shut down", latency: ContinuousClock.now - transfer.started)))
        }
        active = [:]
        while let next = waiting.next() {
            next.completion(.failure(.abandoned("the HTTP client shut down", latency: .zero)))
        }
        for shard in shards { curl_multi_cleanup(shard.multi) }
    }
}

/// A request handed to ``CurlMultiClient/post(_:pool:completion:)`` and not yet started: a
/// struct, not a tuple, so moving it from the client's queue to its pool's costs no
/// allocation (a closure in a tuple stored in an array is re-wrapped on the way out and in).
struct PendingRequest {
    let request: WebhookRequest
    let completion: CurlMultiClient.Completion
    let pool: Int
}

/// The requests waiting for room in a pool's window, in order, on the loop thread: taken
/// from the front without moving the rest (a taken slot is cleared, so nothing it captured
/// is kept).
struct RequestQueue {
    private var items: [PendingRequest?] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ request: PendingRequest) {
        if head > 0, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        items.append(request)
    }

    mutating func next() -> PendingRequest? {
        guard head < items.count else { return nil }
        defer {
            items[head] = nil
            head += 1
        }
        return items[head]
    }
}
