import SluiceCore

/// The acknowledgements of a few records, reported once for them all: the callback runs
/// when the last is acknowledged, or at the first failure, on the producer's
/// delivery-report thread. No task waits, so a caller with thousands of small batches in
/// flight (dispatch: one delivery's outcome each) pays no task switch per batch.
///
/// Invariant: the callback runs at most once, and never after ``abandon()``.
///
/// ```swift
/// try producer.enqueue(records) { result in
///     if case .success = result { tracker.finished(offset) }   // on the report thread: keep it short
/// }
/// ```
public final class AcknowledgementGroup: Sendable {
    private struct State {
        var remaining: Int
        var reported = false
    }

    private let state: Locked<State>
    private let callback: @Sendable (Result<Void, KafkaError>) -> Void

    init(count: Int, callback: @escaping @Sendable (Result<Void, KafkaError>) -> Void) {
        state = Locked(State(remaining: count))
        self.callback = callback
    }

    /// One record's report.
    func record(_ outcome: Result<KafkaRecordMetadata, KafkaError>) {
        let report: Result<Void, KafkaError>? = state.withLock { state in
            guard !state.reported else { return nil }
            switch outcome {
            case .failure(let error):
                state.reported = true
                return .failure(error)
            case .success:
                state.remaining -= 1
                guard state.remaining == 0 else { return nil }
                state.reported = true
                return .success(())
            }
        }
        if let report { callback(report) }
    }

    /// Not every record could be handed over: the caller takes the batch back, and no
    /// report of the ones handed over reaches the callback.
    func abandon() { state.withLock { $0.reported = true } }
}
