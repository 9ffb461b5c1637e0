import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

/// A dead letter's flat writer against the Codable path it stands in for.
@Suite("Dead letters' flat path")
struct DeadLetterFlatWireTests {
    @Test("the flat writer's bytes are the Codable encoder's, over random deliveries, histories and reasons")
    func sameBytes() async {
        await propertyCheck(input: FlatWireTests.text, FlatWireTests.id, FlatWireTests.time, FlatWireTests.history, FlatWireTests.history, Gen.int(in: 1...100), FlatWireTests.text) {
            body, id, at, history, attempts, attempt, error in
            var delivery = Delivery(event: FlatWireTests.event, endpointID: "ep_" + id, now: at)
            delivery.body = Array(body.utf8)
            delivery.attempt = attempt
            delivery.history = history
            delivery.firstAttemptAt = at
            let letter = DeadLetter(delivery: delivery, reason: "exhausted", finalError: error, attempts: attempts, deadAt: at.addingTimeInterval(60))
            let flat = letter.flatWireBytes()
            #expect(flat != nil)
            #expect(flat == (try? letter.codableWireBytes()), "\(String(decoding: flat ?? [], as: UTF8.self))")
            #expect((try? DeadLetter(wireBytes: flat ?? [])) == (try? DeadLetter(codableWireBytes: flat ?? [])))
        }
    }

    @Test("a dead letter with fields of a newer format, in it or in its delivery, takes the Codable path and keeps them")
    func newerFields() throws {
        var delivery = Delivery(event: FlatWireTests.event, endpointID: "ep_1", now: Date(timeIntervalSince1970: 1_800_000_000))
        var letter = DeadLetter(delivery: delivery, reason: "max_age", finalError: "HTTP 500", attempts: [], deadAt: delivery.createdAt)
        #expect(try letter.wireBytes() == letter.codableWireBytes())
        letter.extra = ["future": .string("x")]
        #expect(letter.flatWireBytes() == nil)
        #expect(try DeadLetter(wireBytes: letter.wireBytes()).extra == ["future": .string("x")])
        delivery.extra = ["future": .number(2)]
        letter = DeadLetter(delivery: delivery, reason: "max_age", finalError: "HTTP 500", attempts: [], deadAt: delivery.createdAt)
        #expect(letter.flatWireBytes() == nil)
        #expect(try DeadLetter(wireBytes: letter.wireBytes()).delivery.extra == ["future": .number(2)])
    }
}
