/// Checks `condition` every `interval` until it holds or `timeout` passes; returns whether
/// it held. Tests wait for what they expect with this (and a long bound), never for a
/// fixed time or a quiet period.
///
/// ```swift
/// #expect(await waitUntil(timeout: .seconds(30)) { try receiver.count() == 10 })
/// ```
@discardableResult
public func waitUntil(
    timeout: Duration, interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: interval)
    }
}
