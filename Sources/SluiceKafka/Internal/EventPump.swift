import SluiceCore
import CRdKafka
import Foundation
import Logging
import Synchronization

/// A thread that drains one librdkafka queue and hands each event to `handle`.
///
/// Sluice prefers draining queues to C callbacks: librdkafka puts delivery reports,
/// errors and admin results on the queue, and this thread is the one place they cross
/// into Swift for a producer or admin client. The event is destroyed after `handle`
/// returns, so `handle` must copy what it keeps.
final class EventPump: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// Starts draining `queue`, which the pump owns and destroys when it stops. `handle`
    /// keeps the client alive for as long as the thread runs.
    init(
        name: String, handle: RdKafkaHandle, queue: OpaquePointer,
        onEvent: @escaping @Sendable (OpaquePointer) -> Void
    ) {
        let queueBox = UncheckedBox(queue)
        let thread = Thread { [self] in
            withExtendedLifetime(handle) {
                while !self.stopped.load(ordering: .acquiring) {
                    guard let event = rd_kafka_queue_poll(queueBox.value, 100) else { continue }
                    onEvent(event)
                    rd_kafka_event_destroy(event)
                }
                rd_kafka_queue_destroy(queueBox.value)
            }
            self.done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops the thread and waits for it (at most one poll interval).
    func stop() {
        stopped.store(true, ordering: .releasing)
        let wait = finished.withLock { was in
            defer { was = true }
            return !was
        }
        if wait { done.wait() }
    }
}

/// Passes a librdkafka log event to swift-log. Failures also arrive as error events
/// (logged by ``logKafkaErrorEvent(_:logger:)``), so only critical lines are warnings.
func logKafkaLogEvent(_ event: OpaquePointer, logger: Logger) {
    var facility: UnsafePointer<CChar>?
    var text: UnsafePointer<CChar>?
    var level: Int32 = 0
    guard rd_kafka_event_log(event, &facility, &text, &level) == 0, let text else { return }
    let swiftLevel: Logger.Level = level <= 2 ? .warning : level <= 5 ? .info : .debug
    logger.log(
        level: swiftLevel, "\(String(cString: text))",
        metadata: ["librdkafka": "\(facility.map { String(cString: $0) } ?? "")"])
}

/// Logs librdkafka's error events; reports whether the error is fatal for the client.
/// A non-fatal error repeated within ``ErrorLogThrottle/interval`` is logged once (a
/// dead broker is retried every few hundred milliseconds).
func logKafkaErrorEvent(_ event: OpaquePointer, logger: Logger) -> KafkaError? {
    let code = rd_kafka_event_error(event)
    let message = String(cString: rd_kafka_event_error_string(event))
    let fatal = rd_kafka_event_error_is_fatal(event) != 0
    let error = KafkaError(code: code, operation: "Kafka client", message: message)
    if fatal {
        logger.error("fatal Kafka client error", metadata: ["error": "\(error)"])
        return error
    }
    if ErrorLogThrottle.shared.shouldLog(code: code.rawValue) {
        logger.warning("Kafka client error", metadata: ["error": "\(error)"])
    }
    return nil
}

/// Lets one warning per error code through per interval, process-wide.
final class ErrorLogThrottle: Sendable {
    static let shared = ErrorLogThrottle()
    static let interval: Duration = .seconds(10)
    private let lastLogged = Locked<[Int32: ContinuousClock.Instant]>([:])

    func shouldLog(code: Int32, now: ContinuousClock.Instant = .now) -> Bool {
        lastLogged.withLock { last in
            if let previous = last[code], now - previous < Self.interval { return false }
            last[code] = now
            return true
        }
    }
}
