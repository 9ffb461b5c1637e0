import CCurl
import Foundation
import SluiceCore

/// Many concurrent webhook POSTs on one thread: a libcurl multi handle that reuses
/// connections per host (HTTP/1.1 keep-alive, HTTP/2 multiplexing where offered).
///
/// Callers hand a request to ``post(_:completion:)`` (or await ``post(_:)``); the request
/// is queued, the loop thread is woken, adds it to the multi handle and drives the
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

    private let pending = Locked<[(WebhookRequest, Completion)]>([])
    private let stopping = Locked(false)
    private let inFlightCount = Locked(0)
    private let done = DispatchSemaphore(value: 0)
    private let events = CurlSocketEvents()

    /// - Parameters:
    ///   - maxConnections: open connections at most, over all hosts.
    ///   - maxConnectionsPerHost: per host (0 = no limit beyond the total).
    public init(maxConnections: Int = 1024, maxConnectionsPerHost: Int = 0) {
        CurlGlobal.initialize()
        let multi = curl_multi_init()!
        sluice_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
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
    public var inFlight: Int { inFlightCount.withLock { $0 } }

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
            return pending.withLock { queue in
                queue.append((request, completion))
                return queue.count
            }
        }
        guard let queued else {
            completion(.failure(WebhookTransferError(errorClass: .other, message: "the HTTP client is shut down", latency: .zero)))
            return
        }
        if queued == 1 { events.wake() }
    }

    /// Fails every transfer still under way and stops the loop thread.
    public func shutdown() {
        let first = stopping.withLock { stopped -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        events.wake()
        done.wait()
    }

    private func loop() {
        var active: [UnsafeMutableRawPointer: Unmanaged<CurlTransfer>] = [:]
        var handles = CurlEasyPool()
        var running: Int32 = 0
        while !stopping.withLock({ $0 }) {
            for (request, completion) in pending.withLock({ queue in defer { queue = [] }; return queue }) {
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
                active[transfer.easy] = retained
            }
            inFlightCount.withLock { $0 = active.count }
            let (ready, timerDue) = events.wait(cap: 1000)
            for socket in ready { curl_multi_socket_action(multi.value, socket.socket, socket.flags, &running) }
            if timerDue { curl_multi_socket_action(multi.value, CURL_SOCKET_TIMEOUT, 0, &running) }
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi.value, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let retained = active.removeValue(forKey: easy)
                else { continue }
                let transfer = retained.takeUnretainedValue()
                let outcome = transfer.outcome(message.pointee.data.result)
                curl_multi_remove_handle(multi.value, easy)
                handles.give(easy)
                retained.release()
                transfer.completion(outcome)
            }
            inFlightCount.withLock { $0 = active.count }
        }
        for (easy, retained) in active {
            curl_multi_remove_handle(multi.value, easy)
            handles.give(easy)
            let transfer = retained.takeRetainedValue()
            transfer.completion(.failure(WebhookTransferError(errorClass: .other, message: "the HTTP client shut down", latency: ContinuousClock.now - transfer.started)))
        }
        for (_, completion) in pending.withLock({ queue in defer { queue = [] }; return queue }) {
            completion(.failure(WebhookTransferError(errorClass: .other, message: "the HTTP client shut down", latency: .zero)))
        }
        handles.drain()
        curl_multi_cleanup(multi.value)
        inFlightCount.withLock { $0 = 0 }
        done.signal()
    }
}

/// `curl_global_init`, once per process, before any other curl call.
enum CurlGlobal {
    private static let once: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
    static func initialize() { _ = once }
}
