import Foundation

/// How many integration tests run at once: each takes a slot for its whole body and
/// gives it back at the end, so the shared broker and the machine's cores serve a
/// bounded number of pipelines instead of every suite at once.
///
/// Invariant: at most `width` bodies run at a time; waiters are served in arrival
/// order; a body nested inside another (a test calling ``IntegrationTest/run(_:)``
/// twice, or a helper that also takes a slot) runs in its caller's slot, so nesting
/// never waits for itself.
///
/// The width is `SLUICE_TEST_WIDTH` (default 4). A clean-clone run with all 98
/// integration tests at once pushed a 2-core machine's load past 15; Tansu then answered
/// group joins and transaction calls after the clients' timeouts, and tests failed that
/// pass alone.
///
/// ```swift
/// try await IntegrationSlots.run { try await startPipelineAndCheckIt() }
/// ```
public actor IntegrationSlots {
    /// The one gate every integration test passes.
    public static let shared = IntegrationSlots(width: width(from: ProcessInfo.processInfo.environment))

    @TaskLocal static var holding = false

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { free = max(1, width) }

    /// `SLUICE_TEST_WIDTH` when it is a whole number from 1 to 64, else 4.
    static func width(from environment: [String: String]) -> Int {
        guard let text = environment["SLUICE_TEST_WIDTH"], let n = Int(text), (1...64).contains(n) else { return 4 }
        return n
    }

    /// Runs `body` in a slot of the shared gate (or in the caller's, when nested).
    public static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        if holding { return try await body() }
        await shared.acquire()
        do {
            let result = try await $holding.withValue(true) { try await body() }
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
