/// Per-endpoint attempt latency over a window, reported as the slowest few endpoints:
/// what an operator wants from "per-endpoint latency" without one metric series per
/// endpoint (5,000 endpoints would be 5,000 series).
///
/// Invariant: at most `capacity` endpoints are tracked per window (more are counted in
/// ``untracked``); ``rotate(top:minimumAttempts:)`` returns at most `top` entries and
/// starts a new window.
///
/// ```swift
/// var board = EndpointLatencyBoard()
/// board.record("ep_1", seconds: 2.5)
/// board.rotate(top: 10)   // [Entry(endpoint: "ep_1", attempts: 1, meanSeconds: 2.5, maxSeconds: 2.5)]
/// ```
struct EndpointLatencyBoard: Sendable {
    struct Entry: Sendable, Equatable {
        var endpoint: String
        var attempts: Int
        var meanSeconds: Double
        var maxSeconds: Double
    }

    let capacity: Int
    private var window: [String: (count: Int, sum: Double, max: Double)] = [:]
    /// Attempts of endpoints past `capacity` in this window.
    private(set) var untracked = 0

    init(capacity: Int = 10_000) { self.capacity = capacity }

    mutating func record(_ endpoint: String, seconds: Double) {
        guard var entry = window[endpoint] ?? (window.count < capacity ? (0, 0, 0) : nil) else {
            untracked += 1
            return
        }
        entry.count += 1
        entry.sum += seconds
        entry.max = Swift.max(entry.max, seconds)
        window[endpoint] = entry
    }

    /// The `top` endpoints by mean latency with at least `minimumAttempts` in the window
    /// (slowest first), and a fresh window.
    mutating func rotate(top: Int, minimumAttempts: Int = 1) -> [Entry] {
        defer {
            window = [:]
            untracked = 0
        }
        return window.filter { $0.value.count >= minimumAttempts }
            .map { Entry(endpoint: $0.key, attempts: $0.value.count, meanSeconds: $0.value.sum / Double($0.value.count), maxSeconds: $0.value.max) }
            .sorted { ($0.meanSeconds, $0.endpoint) > ($1.meanSeconds, $1.endpoint) }
            .prefix(top).map { $0 }
    }
}
