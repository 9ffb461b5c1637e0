import Metrics

/// Dispatch's Prometheus metrics: attempts by outcome, deferrals by reason, circuit
/// changes, deliveries in flight, attempt latency. Endpoints are not a label: their
/// number is unbounded.
struct DispatchMetrics: Sendable {
    let inFlight = Gauge(label: "sluice_dispatch_in_flight")
    let latency = Timer(label: "sluice_dispatch_attempt_seconds")

    func attempt(_ outcome: String, _ errorClass: String) {
        Counter(label: "sluice_dispatch_attempts_total", dimensions: [("outcome", outcome), ("error_class", errorClass)]).increment()
    }

    func deferred(_ reason: String) {
        Counter(label: "sluice_dispatch_deferred_total", dimensions: [("reason", reason)]).increment()
    }

    func circuit(_ change: String) {
        Counter(label: "sluice_dispatch_circuit_transitions_total", dimensions: [("to", change)]).increment()
    }
}
