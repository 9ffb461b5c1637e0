import Dispatch
import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM, taken over from their default (ending the process) so that
/// `sluice dev` can stop its children in order first.
///
/// Invariant: from ``init()`` until ``cancel()``, neither signal ends the process; each
/// one that arrives is delivered to ``next()`` (the first one wins).
///
/// ```swift
/// let signals = DevSignals()
/// let name = await signals.next()   // "interrupted (SIGINT)", or nil if cancelled
/// ```
final class DevSignals: Sendable {
    private let sources: [UncheckedBox<DispatchSourceSignal>]
    private let state = Locked<(received: String?, waiter: CheckedContinuation<String?, Never>?)>((nil, nil))

    init() {
        var sources: [UncheckedBox<DispatchSourceSignal>] = []
        for (number, name) in [(SIGINT, "interrupted (SIGINT)"), (SIGTERM, "terminated (SIGTERM)")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(UncheckedBox(source))
            source.setEventHandler { [state] in
                let waiter = state.withLock { s -> CheckedContinuation<String?, Never>? in
                    guard s.received == nil else { return nil }
                    s.received = name
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume(returning: name)
            }
            source.resume()
        }
        self.sources = sources
    }

    /// Waits for the first SIGINT or SIGTERM (or returns it if one came already); nil
    /// when the waiting task is cancelled.
    func next() async -> String? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { s -> String? in
                    if let received = s.received { return received }
                    s.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<String?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Stops listening; the signals end the process again.
    func cancel() {
        for source in sources { source.value.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
