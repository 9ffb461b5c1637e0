import SluiceCore

/// Webhook POSTs over several ``CurlMultiClient`` loops, each on a thread of its own: a
/// request goes to the loop its key picks (dispatch keys by endpoint, so an endpoint's
/// connections stay in one loop's pool and are reused).
///
/// Why: one loop thread does most of a dispatcher's work (curl, and the conclusion of each
/// delivery that runs in its completion), so one core bounds a dispatcher with one loop.
/// The bounds given are shared out: each loop gets its part of the connections and of the
/// window's floor, start and ceiling.
///
/// Invariant: `loops` is never empty; a key always picks the same loop.
///
/// ```swift
/// let http = CurlLoopGroup(loops: 2, maxConnections: 4000, maxIdleConnections: 2000, window: TransferWindow.Config())
/// http.post(request, key: endpoint.id.hashValue) { result in ... }
/// http.shutdown()
/// ```
public final class CurlLoopGroup: Sendable {
    public let loops: [CurlMultiClient]

    /// - Parameters:
    ///   - loops: loop threads (at least one).
    ///   - maxConnections, maxIdleConnections, window: over all loops, as
    ///     ``CurlMultiClient/init(maxConnections:maxIdleConnections:maxConnectionsPerHost:window:)``
    ///     takes them for one.
    public init(loops: Int, maxConnections: Int, maxIdleConnections: Int?, window: TransferWindow.Config) {
        let n = max(1, loops)
        var part = window
        part.ceiling = max(1, window.ceiling / n)
        part.floor = max(1, window.floor / n)
        part.initial = max(1, window.initial / n)
        self.loops = (0..<n).map { _ in
            CurlMultiClient(
                maxConnections: max(1, maxConnections / n), maxIdleConnections: maxIdleConnections.map { max(1, $0 / n) }, window: part)
        }
    }

    /// POSTs `request` on the loop `key` picks; `completion` runs on that loop's thread.
    public func post(_ request: WebhookRequest, key: Int, completion: @escaping CurlMultiClient.Completion) {
        let index = loops.count == 1 ? 0 : Int(UInt(bitPattern: key) % UInt(loops.count))
        loops[index].post(request, completion: completion)
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
