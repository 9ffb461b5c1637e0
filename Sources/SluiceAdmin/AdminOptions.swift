import Foundation

/// Where `sluice-admin` listens and keeps its query store: `--port` (env
/// `SLUICE_ADMIN_PORT`, default 8089), `--host` (env `SLUICE_ADMIN_HOST`, default
/// 127.0.0.1: put a proxy with TLS in front to serve other hosts), `--store` (env
/// `SLUICE_ADMIN_STORE`, default `.sluice-admin/store.sqlite`). Flags beat the environment.
///
/// Invariant: a resolved port is in 0…65535 (0: any free port) and the store path is not empty.
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

    public init(port: Int = defaultPort, host: String = "127.0.0.1", storePath: String = ".sluice-admin/store.sqlite") {
        self.port = port
        self.host = host
        self.storePath = storePath
    }

    public static func resolve(
        port: Int?, host: String?, store: String?, environment: [String: String] = ProcessInfo.processInfo.environment
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
        return options
    }
}

/// A bad `sluice-admin` option, naming the flag and variable that set it.
public struct AdminOptionsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
