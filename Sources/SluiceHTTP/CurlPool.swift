import CCurl
import Foundation
import SluiceCore

/// One connection pool of ``CurlMultiClient``: a libcurl multi handle (its connections,
/// its bounds), the ``TransferWindow`` over its young transfers, its transfers under way
/// and the requests waiting for room. The client's loop thread drives every pool of the
/// client from one epoll set (``CurlSocketEvents``), so a second pool costs no thread.
///
/// Invariant: only the client's loop thread touches it; every easy handle in `active` is
/// in the multi handle, and its transfer is retained until it is taken out.
///
/// ```swift
/// let pool = CurlPool(config, index: 0, events: events)
/// pool.start(now: now, handles: &handles)     // as many waiting requests as the window has room for
/// pool.act(on: socket, flags: flags)          // a socket of this pool is ready
/// pool.complete(handles: &handles)            // calls the completions of what finished
/// ```
final class CurlPool {
    let index: Int
    private let multi: UnsafeMutableRawPointer
    var window: TransferWindow
    var waiting = RequestQueue()
    private var active: [UnsafeMutableRawPointer: (transfer: Unmanaged<CurlTransfer>, ticket: TransferWindow.Ticket)] = [:]
    /// curl's callbacks' context: kept as long as the multi handle (see ``CurlSocketEvents``).
    private let source: CurlSocketEvents.Source
    private var running: Int32 = 0
    /// Ready sockets and answers of this pool in the loop's current turn.
    private var handled = 0
    private let maxConnections: Int
    /// Idle connections kept beyond those in use (``CurlMultiClient/Pool/maxIdleConnections``).
    private let idleKept: Int
    /// curl's connection cache size as last set (``sizeCache()``).
    private var cacheSize = 0

    init(_ config: CurlMultiClient.Pool, index: Int, events: CurlSocketEvents) {
        self.index = index
        window = TransferWindow(config.resolvedWindow)
        let multi = curl_multi_init()!
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, config.maxConnections)
        (maxConnections, idleKept) = (config.maxConnections, config.maxIdleConnections ?? config.maxConnections)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, config.maxConnectionsPerHost)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        source = events.install(on: multi, pool: index)
        self.multi = multi
        sizeCache()
    }

    /// Sets curl's connection cache (`CURLMOPT_MAXCONNECTS`) to the connections in use plus
    /// `idleKept`, within `maxConnections`. libcurl (7.88) counts the connections in use in
    /// its cache: once they pass its size, every connection a transfer gives back closes
    /// the oldest idle one, so with a fixed size, slow requests holding connections made
    /// every other request open a new one (a TLS handshake over HTTPS). By default curl
    /// keeps four per easy handle added, too few with few transfers at once.
    private func sizeCache() {
        // At least one: 0 would mean curl's default.
        let size = max(1, min(maxConnections, active.count + idleKept))
        guard size != cacheSize else { return }
        cacheSize = size
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, size)
    }

    /// What the pool holds now.
    var load: CurlMultiClient.Load {
        CurlMultiClient.Load(limit: window.limit, young: window.young, parked: window.parked, waiting: waiting.count)
    }

    /// Starts waiting requests while the window has room; a request curl refuses fails at once.
    func start(now: UInt64, handles: inout CurlEasyPool) {
        while window.room > 0, let next = waiting.next() {
            let (request, completion) = (next.request, next.completion)
            guard let easy = handles.take() else {
                completion(.failure(WebhookTransferError(errorClass: .other, message: "curl_easy_init failed", latency: .zero)))
                continue
            }
            let transfer = CurlTransfer(request, easy: easy, completion: completion)
            let retained = Unmanaged.passRetained(transfer)
            transfer.attach(retained.toOpaque())
            let added = curl_multi_add_handle(multi, transfer.easy)
            guard added == CURLM_OK else {
                // Never left in `active`: curl would never report it done.
                retained.release()
                handles.give(easy)
                let reason = String(cString: curl_multi_strerror(added))
                completion(.failure(WebhookTransferError(errorClass: .other, message: "curl_multi_add_handle failed: \(reason)", latency: .zero)))
                continue
            }
            active[transfer.easy] = (retained, window.started(now: now))
        }
        sizeCache()
    }

    /// Feeds the window the loop's turn (idle and busy ns), what this pool handled in it and
    /// whether its requests waited for room; starts the next turn's count.
    func observe(idle: UInt64, busy: UInt64, now: UInt64) {
        window.observe(idle: idle, busy: busy, handled: handled, waited: !waiting.isEmpty, now: now)
        handled = 0
    }

    /// Hands curl a ready socket of this pool (`flags`: `CURL_CSELECT_*`).
    func act(on socket: curl_socket_t, flags: Int32) {
        curl_multi_socket_action(multi, socket, flags, &running)
        handled += 1
    }

    /// Tells curl its timer is due.
    func timeout() {
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
    }

    /// Calls the completion of every transfer curl reports done.
    func complete(handles: inout CurlEasyPool) {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let (retained, ticket) = active.removeValue(forKey: easy)
            else { continue }
            window.finished(ticket)
            handled += 1
            let transfer = retained.takeUnretainedValue()
            let outcome = transfer.outcome(message.pointee.data.result)
            curl_multi_remove_handle(multi, easy)
            handles.give(easy)
            retained.release()
            transfer.completion(outcome)
        }
    }

    /// Fails every transfer under way and every request waiting as abandoned, and frees the
    /// multi handle (its connections with it). The pool is not used after.
    func close(handles: inout CurlEasyPool) {
        for (easy, (retained, _)) in active {
            curl_multi_remove_handle(multi, easy)
            handles.give(easy)
            let transfer = retained.takeRetainedValue()
            transfer.completion(.failure(.abandoned("the HTTP client shut down", latency: ContinuousClock.now - transfer.started)))
        }
        active = [:]
        while let next = waiting.next() {
            next.completion(.failure(.abandoned("the HTTP client shut down", latency: .zero)))
        }
        curl_multi_cleanup(multi)
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
