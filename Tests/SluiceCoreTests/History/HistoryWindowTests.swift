import Foundation
import SluiceCore
import Testing

@Suite("History replay windows: parsing, bounds and what the retention still keeps")
struct HistoryWindowTests {
    let now = Date(timeIntervalSince1970: 1_764_064_800)
    let week = Duration.seconds(7 * 86_400)

    @Test("since is inclusive, until exclusive; no until means now; a relative since counts back from now")
    func bounds() throws {
        let window = try HistoryWindow(since: "1h", until: nil, now: now)
        #expect(window.since == now.addingTimeInterval(-3600) && window.until == now)
        #expect(window.contains(now.addingTimeInterval(-3600)))
        #expect(!window.contains(now))
        #expect(!window.contains(now.addingTimeInterval(-3601)))
        #expect(window.contains(nil), "a record without a timestamp was read from the offsets for since on")
    }

    @Test("bad times, a future since and an until not after since are refused, naming the flag and what to do")
    func refusals() {
        #expect(throws: HistoryReplayError.notATime(flag: "since", text: "last tuesday")) { try HistoryWindow(since: "last tuesday", until: nil, now: now) }
        #expect(throws: HistoryReplayError.notATime(flag: "until", text: "soon")) { try HistoryWindow(since: "2h", until: "soon", now: now) }
        let future = now.addingTimeInterval(60)
        #expect(throws: HistoryReplayError.sinceInFuture(future)) { try HistoryWindow(since: future, until: nil, now: now) }
        let since = now.addingTimeInterval(-60), until = now.addingTimeInterval(-120)
        #expect(throws: HistoryReplayError.untilNotAfterSince(since: since, until: until)) { try HistoryWindow(since: since, until: until, now: now) }
        #expect(throws: HistoryReplayError.self) { try HistoryWindow(since: since, until: since, now: now) }
        let message = HistoryReplayError.untilNotAfterSince(since: since, until: until).description
        #expect(message.contains("--until") && message.contains("--since") && message.contains("swap"))
    }

    @Test("coverage: whole inside the retention, partial when it reaches back past it, none when it lies wholly before it")
    func coverage() throws {
        let keptFrom = now.addingTimeInterval(-7 * 86_400)
        #expect(try HistoryWindow(since: "2d", until: nil, now: now).coverage(retention: week, now: now) == .whole)
        #expect(try HistoryWindow(since: "10d", until: nil, now: now).coverage(retention: week, now: now) == .partial(keptFrom: keptFrom))
        #expect(try HistoryWindow(since: "10d", until: "8d", now: now).coverage(retention: week, now: now) == .none(keptFrom: keptFrom))
        #expect(try HistoryWindow(since: "100d", until: nil, now: now).coverage(retention: nil, now: now) == .whole, "no retention keeps everything")
        let message = HistoryReplayError.windowOutsideRetention(until: now, keptFrom: keptFrom, topic: "sluice.events", retention: week).description
        #expect(message.contains("retention 7d") && message.contains("sluice dlq"), "\(message)")
    }
}
