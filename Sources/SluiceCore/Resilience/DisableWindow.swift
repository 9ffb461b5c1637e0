import Foundation

/// Disables an endpoint that has failed, without a single success, for longer than
/// `window` (default 5 days).
///
/// Invariant: `failingSince` is the time of the first failure after the last success,
/// or nil while the endpoint is healthy.
///
/// ```swift
/// var window = DisableWindow()
/// if window.record(success: false, now: now) { disable(endpoint) }
/// ```
public struct DisableWindow: Sendable, Equatable {
    public let window: Duration
    public private(set) var failingSince: Date?

    public init(window: Duration = .seconds(5 * 86_400), failingSince: Date? = nil) {
        self.window = window
        self.failingSince = failingSince
    }

    /// Records an attempt; returns true when the endpoint should now be disabled.
    public mutating func record(success: Bool, now: Date) -> Bool {
        if success {
            failingSince = nil
            return false
        }
        let since = failingSince ?? now
        failingSince = since
        return now.timeIntervalSince(since) > window.timeInterval
    }
}
