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
            // Named from inside: on Linux a name set before start does not reach the thread,
            // which keeps its creator's (a pool thread's) in `top` and `perf`.
            ThreadName.set(name)
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
    let message = String(cString: text)
    let facilityName = facility.map { String(cString: $0) } ?? ""
    guard let suppressed = LogThrottle.shared.admit(LogThrottle.key(facilityName, message)) else { return }
    var metadata: Logger.Metadata = ["librdkafka": "\(facilityName)"]
    if suppressed > 0 { metadata["repeats_suppressed"] = "\(suppressed)" }
    logger.log(level: swiftLevel, "\(message)", metadata: metadata)
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
    if let suppressed = LogThrottle.shared.admit("error \(code.rawValue)") {
        var metadata: Logger.Metadata = ["error": "\(error)"]
        if suppressed > 0 { metadata["repeats_suppressed"] = "\(suppressed)" }
        logger.warning("Kafka client error", metadata: metadata)
    }
    return nil
}

/// Lets one line of a kind through per interval, process-wide: librdkafka retries a dead
/// broker every few hundred milliseconds and logs each try, which buried the one line an
/// operator needs under hundreds. A line let through says how many like it were dropped.
///
/// Invariant: the first line of a kind always passes; then at most one per ``interval``.
///
/// ```swift
/// if let dropped = LogThrottle.shared.admit("error -195") { log(…, dropped) }
/// ```
final class LogThrottle: Sendable {
    static let shared = LogThrottle()
    static let interval: Duration = .seconds(10)
    static let maxKinds = 1_000
    private let kinds = Locked<[String: (last: ContinuousClock.Instant, dropped: Int)]>([:])

    /// nil when a line of this kind passed within the interval (drop this one); otherwise
    /// how many of its kind were dropped since the last that passed.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Int? {
        kinds.withLock { kinds in
            if let seen = kinds[key], now - seen.last < Self.interval {
                kinds[key]?.dropped += 1
                return nil
            }
            let dropped = kinds[key]?.dropped ?? 0
            if kinds.count >= Self.maxKinds { kinds.removeAll() }  // bounded memory, whatever librdkafka says
            kinds[key] = (now, 0)
            return dropped
        }
    }

    /// The kind of a log line: its facility and text with every number blanked, so
    /// "after 1ms" and "after 0ms" are one kind.
    static func key(_ facility: String, _ text: String) -> String {
        var key = facility + " "
        var inNumber = false
        for character in text.unicodeScalars {
            let digit = ("0"..."9").contains(character)
            if !digit { key.unicodeScalars.append(character) } else if !inNumber { key += "#" }
            inNumber = digit
        }
        return key
    }
}
