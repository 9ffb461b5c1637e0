import SluiceCore
import SluiceHTTP

extension DispatchStage {
    /// A straggler's recent latency (the gate's adaptive limit's average): slower than this
    /// and its requests take the straggler pool.
    static let stragglerLatency = 0.1

    /// The straggler pool's window: few young requests (a straggler's request parks after
    /// 100 ms like any other), at most 512.
    static var stragglerWindow: TransferWindow.Config {
        var window = TransferWindow.Config()
        (window.floor, window.initial, window.ceiling) = (64, 64, 512)
        return window
    }

    /// Connections the straggler pool opens at most, beyond the healthy pool's.
    static func stragglerConnections(_ config: Config) -> Int {
        config.stragglerLoop ? config.maxParked + stragglerWindow.ceiling : 0
    }

    /// The HTTP client of `config`: one thread driving ``httpPools(_:window:)``. Servers are
    /// verified against `caFile` when given (`http.ca_file`), else the system's CAs.
    static func httpClient(_ config: Config, window: TransferWindow.Config, caFile: String?) -> CurlMultiClient {
        CurlMultiClient(pools: httpPools(config, window: window), caFile: caFile)
    }

    /// The healthy endpoints' connection pool (every endpoint's when `stragglerLoop` is
    /// off; `httpShards` connection caches), then the stragglers' (one).
    static func httpPools(_ config: Config, window: TransferWindow.Config) -> [CurlMultiClient.Pool] {
        // Parked requests get connections of their own; idle ones are kept for the places of
        // the bound (or `maxIdleConnections`), beyond those in use (``CurlPool`` sizes curl's
        // cache so). With curl's cache fixed at `maxInFlight` (before session 34), a few
        // hundred parked requests made every request open a new connection: measured (the
        // test receiver answering about 1,000/s, 1,000 endpoints, two rounds) 1,124 and 1,249
        // deliveries/s at 462 and 412 CPU µs each, against 2,213 and 2,202/s at 159 and 185
        // µs with the cache at the connection bound, peak RSS alike.
        let healthy = CurlMultiClient.Pool(
            maxConnections: config.maxInFlight + config.maxParked, maxIdleConnections: config.maxIdleConnections ?? config.maxInFlight,
            window: window, shards: config.httpShards)
        guard config.stragglerLoop else { return [healthy] }
        let idle = min(128, config.maxIdleConnections ?? 128)
        return [healthy, CurlMultiClient.Pool(maxConnections: stragglerConnections(config), maxIdleConnections: idle, window: stragglerWindow)]
    }

    /// The pool a request to `endpointID` takes: 1 (the stragglers') when the endpoint is
    /// failing, slow of late or its circuit is not closed, and the pool is on; else 0.
    func pool(for endpointID: String) -> Int {
        guard config.stragglerLoop else { return 0 }
        if streaks.since(endpointID) != nil { return 1 }
        return gate.withLock { $0.isStraggling(endpointID, slowerThan: Self.stragglerLatency) } ? 1 : 0
    }
}
