import Foundation
import SluiceCore

/// Where `sluice-admin` listens and keeps its query store: `--port` (env
/// `SLUICE_ADMIN_PORT`, default 8089), `--host` (env `SLUICE_ADMIN_HOST`, default
/// 127.0.0.1: put a proxy with TLS in front to serve other hosts), `--store` (env
/// `SLUICE_ADMIN_STORE`, default `.sluice-admin/store.sqlite`), `--retention` (env
/// `SLUICE_ADMIN_RETENTION`, default 30d: rows older than this leave the store). Flags
/// beat the environment.
///
/// Invariant: a resolved port is in 0…65535 (0: any free port), the store path is not
/// empty, and the retention is at least 24 h (the `Idempotency-Key` window).
///
/// ```swift
/// let options = try AdminOptions.resolve(port: nil, host: nil, store: nil, environment: ["SLUICE_ADMIN_PORT": "9000"])
/// options.port   // 9000
/// ```
public struct AdminOptions: Sendable, Equatable {
    public static let defaultPort = 8089
    public var port: Int
    public var host: String
    public var storePath: String
    /// How long the store keeps attempts, dead letters, ops events and the event index.
    public var retention: Duration

    public static let defaultRetention: Duration = .seconds(30 * 86_400)
    public static let minimumRetention: Duration = .seconds(86_400)

    public init(port: Int = defaultPort, host: String = "127.0.0.1", storePath: String = ".sluice-admin/store.sqlite", retention: Duration = defaultRetention) {
        self.port = port
        self.host = host
        self.storePath = storePath
        self.retention = retention
    }

    public static func resolve(
        port: Int?, host: String?, store: String?, retention: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(AdminOptionsError) -> AdminOptions {
        var options = AdminOptions()
        if let port {
            options.port = port
        } else if let text = environment["SLUICE_ADMIN_PORT"] {
            guard let parsed = Int(text) else { throw AdminOptionsError("SLUICE_ADMIN_PORT '\(text)': expected a port number 0…65535") }
            options.port = parsed
        }
        guard (0...65535).contains(options.port) else {
            throw AdminOptionsError("port \(options.port): expected 0…65535 (--port, SLUICE_ADMIN_PORT)")
        }
        options.host = host ?? environment["SLUICE_ADMIN_HOST"] ?? options.host
        guard !options.host.isEmpty else { throw AdminOptionsError("the host is empty (--host, SLUICE_ADMIN_HOST)") }
        options.storePath = store ?? environment["SLUICE_ADMIN_STORE"] ?? options.storePath
        guard !options.storePath.isEmpty else { throw AdminOptionsError("the store path is empty (--store, SLUICE_ADMIN_STORE)") }
        if let text = retention ?? environment["SLUICE_ADMIN_RETENTION"] {
            guard let parsed = DurationText.parse(text), parsed >= minimumRetention else {
                throw AdminOptionsError("retention '\(text)': expected a duration of at least 24h, e.g. 30d (--retention, SLUICE_ADMIN_RETENTION)")
            }
            options.retention = parsed
        }
        return options
    }
}

/// A bad `sluice-admin` option, naming the flag and variable that set it.
public struct AdminOptionsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
