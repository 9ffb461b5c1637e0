import SluiceCore

/// Webhook POSTs over several ``CurlMultiClient`` loops, each on a thread of its own and with
/// a connection pool of its own: the caller picks the loop of each request.
///
/// Why: libcurl (7.88) pays, for each new transfer, for every connection in use to its host,
/// so slow endpoints' parked requests and black holes made every healthy request dearer
/// (session 29 measured the reuse check at 11 % of the loop thread). Dispatch can give
/// endpoints that are slow or failing a loop of their own (``DispatchStage/Config``'s
/// `stragglerLoop`), so the healthy ones' loop holds only their connections.
///
/// Invariant: `loops` is never empty; a request goes to `loops[min(loop, count - 1)]`.
///
/// ```swift
/// let http = CurlLoopGroup([CurlMultiClient(maxConnections: 4000), CurlMultiClient(maxConnections: 2500)])
/// http.post(request, loop: endpointIsSlow ? 1 : 0) { result in ... }
/// http.shutdown()
/// ```
public final class CurlLoopGroup: Sendable {
    public let loops: [CurlMultiClient]

    /// - Parameter loops: at least one (an empty list gets one of default settings).
    public init(_ loops: [CurlMultiClient]) {
        self.loops = loops.isEmpty ? [CurlMultiClient()] : loops
    }

    /// POSTs `request` on loop `loop` (the last one if there are fewer); `completion` runs
    /// on that loop's thread.
    public func post(_ request: WebhookRequest, loop: Int, completion: @escaping CurlMultiClient.Completion) {
        loops[max(0, min(loop, loops.count - 1))].post(request, completion: completion)
    }

    /// The loops' windows and transfers, added up.
    public var load: CurlMultiClient.Load {
        loops.reduce(into: CurlMultiClient.Load()) { sum, loop in
            let load = loop.load
            sum.limit += load.limit
            sum.young += load.young
            sum.parked += load.parked
            sum.waiting += load.waiting
        }
    }

    /// Stops every loop (``CurlMultiClient/shutdown()``).
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }
}
