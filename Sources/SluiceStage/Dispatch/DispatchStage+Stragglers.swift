import SluiceCore
import SluiceHTTP

extension DispatchStage {
    /// A straggler's recent latency (the gate's adaptive limit's average): slower than this
    /// and its requests take the straggler loop.
    static let stragglerLatency = 0.1

    /// The straggler loop's window: few young requests (a straggler's request parks after
    /// 100 ms like any other), at most 512.
    static var stragglerWindow: TransferWindow.Config {
        var window = TransferWindow.Config()
        (window.floor, window.initial, window.ceiling) = (64, 64, 512)
        return window
    }

    /// Connections the straggler loop opens at most, beyond the healthy loop's.
    static func stragglerConnections(_ config: Config) -> Int {
        config.stragglerLoop ? config.maxParked + stragglerWindow.ceiling : 0
    }

    /// The HTTP loops of `config`: the healthy endpoints' (every endpoint's when
    /// `stragglerLoop` is off), then the stragglers'.
    static func httpLoops(_ config: Config, window: TransferWindow.Config) -> CurlLoopGroup {
        // Parked requests get connections of their own, but idle ones are kept only for the
        // places of the bound (each kept connection holds its buffers).
        let healthy = CurlMultiClient(maxConnections: config.maxInFlight + config.maxParked, maxIdleConnections: config.maxInFlight, window: window)
        guard config.stragglerLoop else { return CurlLoopGroup([healthy]) }
        let stragglers = CurlMultiClient(maxConnections: stragglerConnections(config), maxIdleConnections: 128, window: stragglerWindow)
        return CurlLoopGroup([healthy, stragglers])
    }

    /// The loop a request to `endpointID` takes: 1 (the stragglers') when the endpoint is
    /// failing, slow of late or its circuit is not closed, and the loop is on; else 0.
    func loop(for endpointID: String) -> Int {
        guard config.stragglerLoop else { return 0 }
        if streaks.since(endpointID) != nil { return 1 }
        return gate.withLock { $0.isStraggling(endpointID, slowerThan: Self.stragglerLatency) } ? 1 : 0
    }
}
