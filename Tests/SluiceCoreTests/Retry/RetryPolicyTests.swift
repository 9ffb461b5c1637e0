import Foundation
import PropertyBased
import Testing

@testable import SluiceCore


@Suite("Retry schedule, tiers and decisions")
struct RetryPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static func delivery(attempt: Int = 1, firstAttemptAt: Date? = nil) -> Delivery {
        var d = Delivery(event: Event(id: "e", source: "/s", type: "t", tenant: "acme", body: Array("{}".utf8)), endpointID: "ep", now: now)
        d.attempt = attempt
        d.firstAttemptAt = firstAttemptAt
        d.createdAt = firstAttemptAt ?? now  // the age counts from creation
        return d
    }

    @Test("the default schedule is the brief's")
    func defaultSchedule() {
        let s = RetrySchedule.default
        #expect(s.maxAttempts == 8)
        #expect(s.maxAge == .seconds(86_400))
        #expect(s.waits.prefix(4) == [.zero, .seconds(60), .seconds(600), .seconds(3600)])
    }

    @Test("schedules and tiers parse from their environment form, and bad ones name the key")
    func parsing() throws {
        #expect(try RetrySchedule(parsing: "0s,2s,5s,10s").waits == [.zero, .seconds(2), .seconds(5), .seconds(10)])
        #expect { try RetrySchedule(parsing: "0s,soon") } throws: { ($0 as? ConfigError)?.key == "retry.schedule" }
        #expect { try RetrySchedule(parsing: "") } throws: { ($0 as? ConfigError)?.key == "retry.schedule" }
        let tiers = try RetryTiers(parsing: "1m=2s,10m=5s,1h=10s")
        #expect(tiers.delay(of: .tenMinutes) == .seconds(5))
        #expect(tiers.tier(for: .seconds(1)) == .oneMinute)
        #expect(tiers.tier(for: .seconds(7)) == .tenMinutes)
        #expect(tiers.tier(for: .seconds(3600)) == .oneHour)
        #expect(try RetryTiers(parsing: "1m=30s").delay(of: .oneHour) == .seconds(3600))
        #expect { try RetryTiers(parsing: "1m=20s,10m=5s") } throws: { "\($0)".contains("grow") }
        #expect { try RetryTiers(parsing: "2m=5s") } throws: { ($0 as? ConfigError)?.key == "retry.tiers" }
        #expect(RetryTier.oneHour.topicSuffix == "retry.1h")
    }

    @Test("2xx is delivered, 410 disables, other statuses and failures retry")
    func outcomes() throws {
        let policy = RetryPolicy()
        #expect(policy.decide(Self.delivery(), result: .response(status: 204, retryAfter: nil), now: Self.now) == .delivered)
        #expect(policy.decide(Self.delivery(), result: .response(status: 410, retryAfter: nil), now: Self.now) == .disableEndpoint(reason: "the endpoint answered 410 Gone"))
        for result in [AttemptResult.response(status: 500, retryAfter: nil), .response(status: 301, retryAfter: nil), .failure(.timeout, message: "15 s")] {
            guard case .retry(let next, _) = policy.decide(Self.delivery(), result: result, now: Self.now) else {
                Issue.record("\(result) should retry")
                continue
            }
            #expect(next.attempt == 2)
            #expect(next.firstAttemptAt == Self.now)
            #expect(next.notBefore >= Self.now && next.notBefore <= Self.now.addingTimeInterval(60))
            #expect(next.eventID == "e")
        }
    }

    @Test("429 and 503 honour Retry-After in seconds and as an HTTP date, capped by the max age")
    func retryAfter() {
        let policy = RetryPolicy()
        guard case .retry(let a, let tierA) = policy.decide(Self.delivery(), result: .response(status: 429, retryAfter: "120"), now: Self.now) else { Issue.record(); return }
        #expect(a.notBefore == Self.now.addingTimeInterval(120))
        #expect(tierA == .oneMinute)
        let date = "Wed, 15 Nov 2023 00:13:20 GMT"  // now + 2 h
        guard case .retry(let b, let tierB) = policy.decide(Self.delivery(), result: .response(status: 503, retryAfter: date), now: Self.now) else { Issue.record(); return }
        #expect(b.notBefore == Self.now.addingTimeInterval(7200))
        #expect(tierB == .oneHour)
        // Asked for 2 days with 1 h of max age left: the wait is capped to just before the
        // age runs out (1 % of the max age earlier), so the attempt still happens.
        let old = Self.delivery(attempt: 2, firstAttemptAt: Self.now.addingTimeInterval(-23 * 3600))
        guard case .retry(let c, _) = policy.decide(old, result: .response(status: 429, retryAfter: "172800"), now: Self.now) else { Issue.record(); return }
        #expect(c.notBefore == Self.now.addingTimeInterval(3600 - 864))
        #expect(c.passes == 1)
    }

    @Test("Retry-After is a floor: a shorter header never shortens the schedule's wait")
    func retryAfterFloor() {
        let policy = RetryPolicy(schedule: try! RetrySchedule(parsing: "0s,10m,10m"), tiers: .nominal)
        // The schedule asks for no wait: the header's 3 s is the floor.
        let immediate = RetryPolicy(schedule: try! RetrySchedule(parsing: "0s,0s,0s"), tiers: .nominal)
        guard case .retry(let low, _) = immediate.decide(Self.delivery(), result: .response(status: 429, retryAfter: "3"), now: Self.now) else { Issue.record(); return }
        #expect(low.notBefore == Self.now.addingTimeInterval(3))
        // With real jitter over 10 min, every wait is at least the header's, and the
        // schedule's longer waits win (all 20 under 3 s would have odds of (3/600)^20).
        var waits: [TimeInterval] = []
        for _ in 0..<20 {
            guard case .retry(let next, _) = policy.decide(Self.delivery(), result: .response(status: 429, retryAfter: "3"), now: Self.now) else { Issue.record(); return }
            waits.append(next.notBefore.timeIntervalSince(Self.now))
        }
        #expect(waits.allSatisfy { $0 >= 3 })
        #expect(waits.contains { $0 > 3 }, "the schedule's longer wait wins over the header")
    }

    @Test("the last attempt, or a wait past the max age, goes to the DLQ")
    func deadLetters() {
        let policy = RetryPolicy(schedule: try! RetrySchedule(parsing: "0s,2s,5s"), tiers: .nominal)
        #expect(policy.decide(Self.delivery(attempt: 3), result: .response(status: 500, retryAfter: nil), now: Self.now)
            == .deadLetter(reason: "exhausted", error: "HTTP 500 on attempt 3 of 3"))
        let aged = Self.delivery(attempt: 2, firstAttemptAt: Self.now.addingTimeInterval(-86_400))
        guard case .deadLetter(let reason, _) = RetryPolicy().decide(aged, result: .failure(.connect, message: "refused"), now: Self.now) else { Issue.record(); return }
        #expect(reason == "max_age")
    }

    @Test("a refused destination goes to the DLQ at once")
    func refusedDestination() {
        #expect(RetryPolicy().decide(Self.delivery(), result: .failure(.refusedDestination, message: "loopback"), now: Self.now)
            == .deadLetter(reason: "refused_destination", error: "loopback"))
    }

    @Test("deferrals keep the attempt number")
    func deferral() {
        guard case .wait(let next, let tier) = RetryPolicy().deferral(Self.delivery(attempt: 4), wait: .seconds(600), now: Self.now) else {
            Issue.record("not deferred")
            return
        }
        #expect(next.attempt == 4)
        #expect(next.notBefore == Self.now.addingTimeInterval(600))
        #expect(tier == .tenMinutes)
        #expect(next.passes == 1)
    }

    @Test("repeated deferrals back off up to the largest tier, and stop at the max age")
    func deferralBackoff() {
        let policy = RetryPolicy()
        var d = Self.delivery()
        var waits: [TimeInterval] = []
        var now = Self.now
        while case .wait(let next, _) = policy.deferral(d, wait: .seconds(5), now: now) {
            waits.append(next.notBefore.timeIntervalSince(now))
            now = next.notBefore
            d = next
            if waits.count > 200 { break }
        }
        #expect(Array(waits.prefix(3)) == [5, 5, 5], "the first deferrals wait as asked")
        #expect(Array(waits.dropFirst(3).prefix(7)) == [60, 120, 240, 480, 960, 1920, 3600])
        // attempts (1) + free deferrals + doublings + max age / largest tier, and a little.
        #expect(waits.count <= 1 + RetryPolicy.freeDeferrals + 7 + 24, "passes: \(waits.count)")
        guard case .expired = policy.deferral(d, wait: .seconds(5), now: now) else { Issue.record("not expired"); return }
        #expect(now < d.expiry(maxAge: .seconds(86_400)))
    }

    @Test("Retry-After forms", arguments: [
        ("120", Duration.seconds(120)), ("0", .zero), ("Tue, 14 Nov 2023 22:14:20 GMT", .seconds(60)),
        ("Tuesday, 14-Nov-23 22:14:20 GMT", .seconds(60)), ("Tue Nov 14 22:14:20 2023", .seconds(60)),
        ("Mon, 13 Nov 2023 22:13:20 GMT", .zero),
    ])
    func retryAfterForms(text: String, expected: Duration) {
        #expect(RetryAfter.parse(text, now: Self.now) == expected)
    }

    @Test("malformed Retry-After is ignored", arguments: ["soon", "-5", "1.5", ""])
    func badRetryAfter(text: String) {
        #expect(RetryAfter.parse(text, now: Self.now) == nil)
    }

    @Test("a delivery never passes the attempt limit or the max age, and jitter stays within each wait")
    func scheduleProperty() async {
        await propertyCheck(input: Gen.int(in: 1...12), Gen.int(in: 0...200_000), Gen.int(in: 1...10)) { attempt, ageSeconds, length in
            let schedule = try! RetrySchedule(waits: (0..<length).map { .seconds($0 * $0 * 60) }, maxAge: .seconds(86_400))
            let policy = RetryPolicy(schedule: schedule, tiers: .nominal)
            let first = Self.now.addingTimeInterval(-Double(ageSeconds))
            let d = Self.delivery(attempt: min(attempt, length), firstAttemptAt: first)
            switch policy.decide(d, result: .response(status: 500, retryAfter: nil), now: Self.now) {
            case .retry(let next, _):
                #expect(next.attempt <= schedule.maxAttempts)
                #expect(next.notBefore < first.addingTimeInterval(86_400))
                let wait = next.notBefore.timeIntervalSince(Self.now)
                #expect(wait >= 0 && wait <= schedule.wait(before: next.attempt).timeInterval)
            case .deadLetter:
                #expect(d.attempt >= schedule.maxAttempts || Double(ageSeconds) + schedule.wait(before: d.attempt + 1).timeInterval > 0)
            default:
                Issue.record("a 500 must retry or dead-letter")
            }
        }
    }
}
