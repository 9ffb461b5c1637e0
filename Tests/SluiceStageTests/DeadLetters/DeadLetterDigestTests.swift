import Foundation
import SluiceCore
import Testing

@testable import SluiceStage

@Suite("Dead-letter digest (ops summaries)")
struct DeadLetterDigestTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func dead(_ endpoint: String, _ reason: String = "exhausted") -> DeadLetter {
        let event = Event.structured(id: "e-\(endpoint)", source: "/t", type: "t.x", tenant: "acme", data: .object([:]))
        return DeadLetter(delivery: Delivery(event: event, endpointID: endpoint, now: now), reason: reason, finalError: "HTTP 500", attempts: [], deadAt: now)
    }

    @Test("the first dead letter of an endpoint is reported at once; the rest of the hour together, an hour later")
    func onePerHour() {
        var digest = DeadLetterDigest(interval: .seconds(3600))
        #expect(digest.add(dead("a"), at: now).map(\.count) == [1])
        #expect(digest.add(dead("a"), at: now.addingTimeInterval(10)) == [])
        #expect(digest.add(dead("a", "max_age"), at: now.addingTimeInterval(20)) == [])
        #expect(digest.add(dead("b"), at: now.addingTimeInterval(30)).map(\.endpointID) == ["b"], "endpoints are independent")
        #expect(digest.due(at: now.addingTimeInterval(3599)) == [])
        let later = digest.due(at: now.addingTimeInterval(3600))
        #expect(later.count == 1 && later[0].endpointID == "a" && later[0].count == 2)
        #expect(later[0].reasons == ["exhausted": 1, "max_age": 1])
        #expect(later[0].detail.contains("2 new dead letters"))
        #expect(digest.due(at: now.addingTimeInterval(9000)) == [], "nothing new, nothing written")
    }
}
