import CRdKafka

/// An error from the Kafka layer: what failed, the broker's or librdkafka's own message,
/// and what an operator should do about it.
///
/// Invariant: `code` is librdkafka's `rd_kafka_resp_err_t` (negative for client-side
/// errors, positive for broker errors), or `0` for errors Sluice raises itself
/// (see ``Kind``).
///
/// ```swift
/// do { try await producer.send(record) }
/// catch let error as KafkaError where error.isRetriable { /* try again later */ }
/// ```
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// The class of failure, which decides what a caller does next.
    public enum Kind: Sendable, Equatable {
        /// No broker answered within the timeout.
        case brokerUnreachable
        /// The operation did not complete within its timeout.
        case timedOut
        /// Topics the stage needs do not exist.
        case topicsMissing([String])
        /// A record is larger than the broker or the client accepts.
        case messageTooLarge
        /// A newer producer with the same transactional id has taken over.
        case fenced
        /// A configuration property was rejected.
        case configuration
        /// The transaction must be aborted (and may then be retried).
        case transactionAborted
        /// The client is closed or not ready for the call.
        case state
        /// Any other broker or client error; see `code`.
        case other
    }

    public let kind: Kind
    /// librdkafka's error code, or 0.
    public let code: Int32
    /// The error's own message (from the broker or librdkafka).
    public let message: String
    /// What was being done, e.g. `"produce to sluice.events"`.
    public let operation: String
    /// True when the same call may succeed if tried again.
    public let isRetriable: Bool
    /// True when the client instance cannot be used any more.
    public let isFatal: Bool

    public init(
        kind: Kind, code: Int32 = 0, message: String, operation: String,
        isRetriable: Bool = false, isFatal: Bool = false
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.operation = operation
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    /// What an operator should do next.
    public var remedy: String {
        switch kind {
        case .brokerUnreachable:
            return "check that a broker listens at the --brokers address (env SLUICE_BROKERS) and is reachable"
        case .timedOut:
            return "the broker is slow or unreachable; check its health, or raise the timeout"
        case .topicsMissing(let topics):
            return "create them with `sluice topology apply` (missing: \(topics.joined(separator: ", ")))"
        case .messageTooLarge:
            return "the record exceeds message.max.bytes; shrink it or raise the limit on the broker and the client"
        case .fenced:
            return "another copy with the same --instance-id has started; stop one of them (each copy needs its own id)"
        case .configuration:
            return "fix the configuration property named above"
        case .transactionAborted:
            return "the transaction was aborted; the stage retries the batch"
        case .state:
            return "the client is closed or not initialised; this is a bug in the caller"
        case .other:
            return isRetriable ? "transient; it is retried" : "see the broker's logs for this error"
        }
    }

    public var description: String {
        "\(operation) failed: \(message) (\(codeName)); \(remedy)"
    }

    private var codeName: String {
        code == 0 ? "sluice" : String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
    }
}

extension KafkaError {
    /// Maps a librdkafka response code.
    init(code: rd_kafka_resp_err_t, operation: String, message: String? = nil) {
        let text = message ?? String(cString: rd_kafka_err2str(code))
        self.init(
            kind: Self.kind(of: code), code: code.rawValue, message: text, operation: operation,
            isRetriable: Self.isRetriable(code))
    }

    /// Maps (and destroys) a librdkafka `rd_kafka_error_t`.
    init(consuming error: OpaquePointer, operation: String) {
        let code = rd_kafka_error_code(error)
        var kind = Self.kind(of: code)
        if rd_kafka_error_txn_requires_abort(error) != 0, kind == .other { kind = .transactionAborted }
        self.init(
            kind: kind, code: code.rawValue,
            message: String(cString: rd_kafka_error_string(error)), operation: operation,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0)
        rd_kafka_error_destroy(error)
    }

    static func kind(of code: rd_kafka_resp_err_t) -> Kind {
        switch code {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            return .brokerUnreachable
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
            return .timedOut
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
            return .messageTooLarge
        case RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
            RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
            return .fenced
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL:
            return .configuration
        case RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR__DESTROY:
            return .state
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            return .topicsMissing([])
        default:
            return .other
        }
    }

    static func isRetriable(_ code: rd_kafka_resp_err_t) -> Bool {
        switch code {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
            return true
        default:
            return false
        }
    }

    /// Throws when `code` is an error.
    static func check(_ code: rd_kafka_resp_err_t, _ operation: @autoclosure () -> String) throws(KafkaError) {
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: code, operation: operation()) }
    }

    /// Throws (and destroys the error) when `error` is non-nil.
    static func check(_ error: OpaquePointer?, _ operation: @autoclosure () -> String) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error, operation: operation()) }
    }
}
