import FlyingFox
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The Prometheus `/metrics` endpoint of a stage (`--metrics-port`, 0 = off), serving
/// everything recorded through swift-metrics in this process.
///
/// Invariant: swift-metrics is bootstrapped once per process, with one registry.
///
/// ```swift
/// let metrics = MetricsEndpoint(port: settings.metricsPort, logger: logger)
/// try await ServiceGroup(services: [metrics, stage], …).run()
/// ```
public struct MetricsEndpoint: Service {
    /// The registry every metric of this process lands in.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    public let port: Int
    let logger: Logger

    public init(port: Int, logger: Logger) {
        self.port = port
        self.logger = logger
        _ = Self.registry
    }

    /// Serves `/metrics` until a graceful shutdown; does nothing when the port is 0.
    public func run() async throws {
        guard port > 0 else {
            try? await gracefulShutdown()
            return
        }
        let server = HTTPServer(address: .inet(port: UInt16(port)), logger: .disabled)
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: Data(Self.registry.emitToBuffer()))
        }
        logger.info("serving metrics", metadata: ["port": "\(port)", "path": "/metrics"])
        do {
            try await cancelWhenGracefulShutdown { try await server.run() }
        } catch where error is CancellationError || Task.isShuttingDownGracefully {
            // A graceful shutdown stops the server by cancelling it (a scrape in progress
            // may then fail with a socket error): that is a clean stop.
        }
    }
}
