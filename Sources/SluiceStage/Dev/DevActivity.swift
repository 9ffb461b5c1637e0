import Foundation
import SluiceCore
import SluiceKafka

/// What `sluice dev` prints about failures while it runs: a compact line per failed
/// attempt (and the retry it leads to), circuit change, disable, unreadable secret and
/// dead letter, read from `sluice.attempts`, `sluice.ops` and `sluice.dlq` by an
/// ``ActivityFeed``. At most `perSecond` lines a second; the rest are counted and
/// summed up in one line (`sluice attempts tail --failures` shows them all).
///
/// Invariant: runs until its task is cancelled; a read error is reported once and the
/// feed started again, so it never ends `sluice dev` by itself.
///
/// ```swift
/// let task = Task { await DevActivity(runtime: runtime, say: say).run() }
/// ```
struct DevActivity: Sendable {
    let runtime: StageRuntime
    let say: @Sendable (String) -> Void
    var perSecond = 10

    func run() async {
        let topics = ["attempts", "ops", "dlq"].map(runtime.settings.topic)
        let since = Date()
        let window = Locked<(start: Date, shown: Int, dropped: Int)>((Date(), 0, 0))
        while !Task.isCancelled {
            do {
                let feed = ActivityFeed(reader: try runtime.reader(), topics: topics)
                try await feed.run(since: since, filter: ActivityFilter(failuresOnly: true), follow: true) { [say, perSecond] line in
                    let (show, summary) = window.withLock { w -> (Bool, String?) in
                        let now = Date()
                        var summary: String?
                        if now.timeIntervalSince(w.start) >= 1 {
                            if w.dropped > 0 { summary = "dev: … \(w.dropped) more failure lines (all of them: sluice attempts tail --failures)" }
                            w = (now, 0, 0)
                        }
                        guard w.shown < perSecond else {
                            w.dropped += 1
                            return (false, summary)
                        }
                        w.shown += 1
                        return (true, summary)
                    }
                    if let summary { say(summary) }
                    if show { say("dev: ✗ " + line.formatted) }
                }
            } catch {
                if Task.isCancelled { return }
                say("dev: could not follow the attempts and ops events (\(error)); trying again")
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }
}
