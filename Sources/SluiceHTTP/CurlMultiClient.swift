import CCurl
import Foundation
import SluiceCore

/// Many concurrent webhook POSTs on one thread: a libcurl multi handle that reuses
/// connections per host (HTTP/1.1 keep-alive, HTTP/2 multiplexing where offered).
///
/// Callers hand a request to ``post(_:completion:)`` (or await ``post(_:)``); the request
/// is queued, the loop thread is woken, adds it to the multi handle when its
/// ``TransferWindow`` has room (young transfers are bounded by a limit that adapts to the
/// loop's load; requests past it wait in order, their latency and timeout not yet
/// running), and drives the
/// transfers with `curl_multi_socket_action`, handing curl only the sockets epoll reports
/// ready (``CurlSocketEvents``), so a wake-up costs the same with ten or ten thousand
/// requests in flight. A finished transfer calls its completion on the loop thread (no task
/// switch per request; dispatch concludes a delivery right there). Redirects are never
/// followed; TLS is verified; the response body is read but only an excerpt kept.
///
/// Invariant: only the loop thread touches the multi handle and the easy handles it owns.
///
/// ```swift
/// let client = CurlMultiClient(maxConnections: 512)
/// switch await client.post(request) { case .success(let r): r.status; case .failure(let e): e.errorClass }
/// client.shutdown()
/// ```
public final class CurlMultiClient: Sendable {
    private let multi: UncheckedBox<UnsafeMutableRawPointer>
    /// What a finished transfer calls, on the loop thread: keep it short and never block
    /// (it may hand the client another request).
    public typealias Completion = @Sendable (Result<WebhookResponse, WebhookTransferError>) -> Void

    /// Requests queued since the loop last looked, and every request queued so far (counted
    /// under the same lock as the queue: no second lock per request).
    private let pending = Locked<(queue: [(WebhookRequest, Completion)], posted: Int)>(([], 0))
    private let stopping = Locked(false)
    private let snapshot = Locked(Load())
    private let windowConfig: TransferWindow.Config
    private let done = DispatchSemaphore(value: 0)
    private let events = CurlSocketEvents()

    /// What the loop holds, as of its last turn.
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
    }

    /// - Parameters:
    ///   - maxConnections: open connections at most, over all hosts (kept open between
    ///     requests too), and the transfers under way at most.
    ///   - maxIdleConnections: connections kept open between requests at most (nil:
    ///     `maxConnections`); each idle one costs its buffers.
    ///   - maxConnectionsPerHost: per host (0 = no limit beyond the total).
    ///   - window: how many young transfers run at once (nil: ``TransferWindow/Config``'s
    ///     defaults, up to `maxConnections`; a given ceiling is capped by it too).
    public init(maxConnections: Int = 1024, maxIdleConnections: Int? = nil, maxConnectionsPerHost: Int = 0, window: TransferWindow.Config? = nil) {
        CurlGlobal.initialize()
        var windowConfig = window ?? TransferWindow.Config()
        if window == nil { windowConfig.ceiling = maxConnections }
        windowConfig.ceiling = max(1, min(windowConfig.ceiling, maxConnections))
        windowConfig.floor = max(1, min(windowConfig.floor, windowConfig.ceiling))
        self.windowConfig = windowConfig
        let multi = curl_multi_init()!
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        // Idle connections kept for reuse: by default four per easy handle added, which
        // with few transfers at once would close connections to hosts still in use.
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, min(maxIdleConnections ?? maxConnections, maxConnections))
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        sluice_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        events.install(on: multi, context: Unmanaged.passUnretained(events).toOpaque())
        self.multi = UncheckedBox(multi)
        let thread = Thread { [self] in
            Thread.current.name = "sluice.http"  // from inside: see EventPump
            loop()
        }
        thread.start()
    }

    /// Transfers under way.
    public var inFlight: Int { snapshot.withLock { $0.inFlight } }

    /// Requests handed to ``post(_:completion:)`` since the client was made.
    public var requestsPosted: Int { pending.withLock { $0.posted } }

    /// The window and the transfers, as of the loop's last turn.
    public var load: Load { snapshot.withLock { $0 } }

    /// POSTs `request` and waits for the answer or the failure.
    public func post(_ request: WebhookRequest) async -> Result<WebhookResponse, WebhookTransferError> {
        await withCheckedContinuation { continuation in
            post(request) { continuation.resume(returning: $0) }
        }
    }

    /// POSTs `request`; `completion` gets the answer or the failure on the loop thread (at
    /// once, on the caller's thread, if the client is shut down).
    public func post(_ request: WebhookRequest, completion: @escaping Completion) {
        // The loop takes the whole queue at once: only the first request queued since it
        // last looked needs to wake it (one eventfd write per poll batch, not per request).
        let queued = stopping.withLock { stopped -> Int? in
            guard !stopped else { return nil }
            return pending.withLock { pending in
                pending.queue.append((request, completion))
                pending.posted += 1
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

    /// Everything queued since the loop last looked.
    private func takePending() -> [(WebhookRequest, Completion)] {
        pending.withLock { pending in defer { pending.queue = [] }; return pending.queue }
    }

    private func loop() {
        var active: [UnsafeMutableRawPointer: (transfer: Unmanaged<CurlTransfer>, ticket: TransferWindow.Ticket)] = [:]
        var waiting = RequestQueue()
        var window = TransferWindow(windowConfig)
        var handles = CurlEasyPool()
        var running: Int32 = 0
        while !stopping.withLock({ $0 }) {
            waiting.append(takePending())
            var now = DispatchTime.now().uptimeNanoseconds
            _ = window.age(now: now)
            while window.room > 0, let (request, completion) = waiting.next() {
                guard let easy = handles.take() else {
                    completion(.failure(WebhookTransferError(errorClass: .other, message: "curl_easy_init failed", latency: .zero)))
                    continue
                }
                let transfer = CurlTransfer(request, easy: easy, completion: completion)
                let retained = Unmanaged.passRetained(transfer)
                transfer.attach(retained.toOpaque())
                let added = curl_multi_add_handle(multi.value, transfer.easy)
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
            // Requests left waiting: look again when the oldest young transfer parks (those
            // just added included).
            let waited = !waiting.isEmpty
            let cap = waited ? window.age(now: now).map { Int32(min(1000, ($0 + 999_999) / 1_000_000)) } ?? 1000 : 1000
            let slept = DispatchTime.now().uptimeNanoseconds
            let (ready, timerDue) = events.wait(cap: cap)
            let woke = DispatchTime.now().uptimeNanoseconds
            for socket in ready { curl_multi_socket_action(multi.value, socket.socket, socket.flags, &running) }
            if timerDue { curl_multi_socket_action(multi.value, CURL_SOCKET_TIMEOUT, 0, &running) }
            var queued: Int32 = 0
            var answered = 0
            while let message = curl_multi_info_read(multi.value, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let (retained, ticket) = active.removeValue(forKey: easy)
                else { continue }
                window.finished(ticket)
                answered += 1
                let transfer = retained.takeUnretainedValue()
                let outcome = transfer.outcome(message.pointee.data.result)
                curl_multi_remove_handle(multi.value, easy)
                handles.give(easy)
                retained.release()
                transfer.completion(outcome)
            }
            now = DispatchTime.now().uptimeNanoseconds
            window.observe(idle: woke - slept, busy: now - woke, handled: ready.count + answered, waited: waited, now: now)
            snapshot.withLock { $0 = Load(limit: window.limit, young: window.young, parked: window.parked, waiting: waiting.count) }
        }
        for (easy, (retained, _)) in active {
            curl_multi_remove_handle(multi.value, easy)
            handles.give(easy)
            let transfer = retained.takeRetainedValue()
            transfer.completion(.failure(.abandoned("the HTTP client shut down", latency: ContinuousClock.now - transfer.started)))
        }
        waiting.append(takePending())
        while let (_, completion) = waiting.next() {
            completion(.failure(.abandoned("the HTTP client shut down", latency: .zero)))
        }
        handles.drain()
        curl_multi_cleanup(multi.value)
        snapshot.withLock { $0 = Load() }
        done.signal()
    }
}

/// `curl_global_init`, once per process, before any other curl call.
enum CurlGlobal {
    private static let once: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
    static func initialize() { _ = once }
}

/// The requests waiting for room in the window, in order, on the loop thread: taken from
/// the front without moving the rest (a taken slot is cleared, so nothing it captured is
/// kept).
private struct RequestQueue {
    private var items: [(WebhookRequest, CurlMultiClient.Completion)?] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(_ more: [(WebhookRequest, CurlMultiClient.Completion)]) {
        guard !more.isEmpty else { return }
        if head > 0, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        items += more.map(Optional.some)
    }

    mutating func next() -> (WebhookRequest, CurlMultiClient.Completion)? {
        guard head < items.count else { return nil }
        defer {
            items[head] = nil
            head += 1
        }
        return items[head]
    }
}
