import FlyingFox
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The Prometheus `/metrics` endpoint of a stage (`--metrics-port`, 0 = off), serving
/// everything recorded through swift-metrics in this process, and `/healthz` (200 `ok`
/// while the process serves) for liveness probes.
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
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Histogram buckets of timers whose values outgrow the default ones (5 ms … 10 s):
    /// a retry tier may forward minutes late, and the alert on it (p99 above 30 s, see
    /// ops/prometheus/sluice-alerts.yml) needs buckets above 30 s to see that.
    static let durationBuckets: [String: [Duration]] = [
        "sluice_retry_forward_lateness_seconds": [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        ]
    ]

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
        await server.appendRoute("GET /healthz") { _ in
            HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain"], body: Data("ok\n".utf8))
        }
        logger.info("serving metrics", metadata: ["port": "\(port)", "paths": "/metrics /healthz"])
        do {
            try await cancelWhenGracefulShutdown { try await server.run() }
        } catch where error is CancellationError || Task.isShuttingDownGracefully {
            // A graceful shutdown stops the server by cancelling it (a scrape in progress
            // may then fail with a socket error): that is a clean stop.
        }
    }
}
