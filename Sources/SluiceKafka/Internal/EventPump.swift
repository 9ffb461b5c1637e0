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

/// Carries a C pointer across a concurrency boundary whose safety the caller documents.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Logs librdkafka's error events; reports whether the error is fatal for the client.
func logKafkaErrorEvent(_ event: OpaquePointer, logger: Logger) -> KafkaError? {
    let code = rd_kafka_event_error(event)
    let message = String(cString: rd_kafka_event_error_string(event))
    let fatal = rd_kafka_event_error_is_fatal(event) != 0
    let error = KafkaError(code: code, operation: "Kafka client", message: message)
    if fatal {
        logger.error("fatal Kafka client error", metadata: ["error": "\(error)"])
        return error
    }
    logger.warning("Kafka client error", metadata: ["error": "\(error)"])
    return nil
}
