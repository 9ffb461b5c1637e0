import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error.
///
/// Each line has `ts` (ISO 8601, UTC), `level`, `label`, `msg`, and the merged metadata
/// as strings. Lines are written whole under a lock, so lines of concurrent tasks never
/// interleave.
///
/// ```swift
/// LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
/// // {"ts":"2026-11-25T02:17:00.123Z","level":"info","label":"sluice-fanout","msg":"started"}
/// ```
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    private let sink: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level = .info, sink: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.logLevel = level
        self.sink = sink ?? Self.writeToStandardError
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        fields["ts"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["msg"] = "\(event.message)"
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
            let line = String(data: data, encoding: .utf8)
        else { return }
        sink(line)
    }

    private static let lock = NSLock()
    private static let writeToStandardError: @Sendable (String) -> Void = { line in
        lock.lock()
        defer { lock.unlock() }
        // A failed write (a closed pipe, where SIGPIPE is ignored) drops the line.
        try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
    }
}
