import Foundation
import Testing

@testable import SluiceCore

@Suite("Event lines (sluice events publish --file)")
struct EventLineTests {
    @Test("missing attributes come from the defaults; the result passes fanout's decoder; present ones are kept")
    func defaults() throws {
        let event = try EventLine.parse(#"{"type":"order.created","data":{"n":1}}"#, defaults: .init(tenant: "acme", type: "ignored")).get()
        #expect(event.type == "order.created" && event.tenant == "acme" && event.source == "/sluice/cli" && event.id.hasPrefix("evt_"))
        #expect(try EventDecoder().decode(key: Array("acme".utf8), value: event.body, headers: [:]).get() == event)
        let own = try EventLine.parse(#"{"id":"e1","source":"/shop","type":"t","tenant":"globex"}"#, defaults: .init(tenant: "acme")).get()
        #expect(own.id == "e1" && own.source == "/shop" && own.tenant == "globex")
    }

    @Test("not JSON, not an object, or missing a type or tenant with no default: rejected with a reason")
    func rejections() {
        for line in ["not json", "[1,2]", #"{"tenant":"acme"}"#, #"{"type":"t"}"#] {
            guard case .failure(let reason) = EventLine.parse(line, defaults: .init()) else {
                Issue.record("\(line) was accepted")
                continue
            }
            #expect(!reason.description.isEmpty)
        }
    }
}
