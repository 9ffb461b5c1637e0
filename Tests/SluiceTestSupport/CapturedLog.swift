import Logging
import SluiceCore

/// A logger whose lines a test reads back: JSON lines, as the stages write them
/// (``JSONLogHandler``), kept in memory instead of written to standard error.
///
/// Invariant: ``lines`` holds every line logged at `level` or above, in order.
///
/// ```swift
/// let log = CapturedLog(level: .warning)
/// consumer = try KafkaConsumer(config: config, logger: log.logger)
/// #expect(log.lines.contains { $0.contains("could not read the committed offsets") })
/// ```
public final class CapturedLog: Sendable {
    private let captured = Locked<[String]>([])
    public let logger: Logger

    public init(level: Logger.Level, label: String = "t") {
        let captured = self.captured
        logger = Logger(label: label) { JSONLogHandler(label: $0, level: level, sink: { line in captured.withLock { $0.append(line) } }) }
    }

    /// The lines logged so far.
    public var lines: [String] { captured.withLock { $0 } }
}
