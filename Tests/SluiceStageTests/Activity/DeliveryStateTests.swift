import Foundation
import Testing

@testable import SluiceStage

@Suite("Delivery state of one event at one endpoint")
struct DeliveryStateTests {
    static func line(_ kind: ActivityLine.Kind, _ second: Double, failed: Bool) -> ActivityLine {
        ActivityLine(
            kind: kind, at: Date(timeIntervalSince1970: 1_800_000_000 + second), endpointID: "ep_1", tenant: "acme", eventID: "evt_1",
            isFailure: failed, text: "", json: "{}")
    }

    @Test("the latest dead letter decides unless an attempt came after it (a replay)", arguments: [
        ([(ActivityLine.Kind.attempt, 1.0, false)], DeliveryState.delivered),
        ([(.attempt, 1, true)], .retrying),
        ([(.attempt, 1, true), (.attempt, 2, true), (.deadLetter, 3, true)], .deadLettered),
        ([(.deadLetter, 3, true), (.attempt, 1, true), (.attempt, 4, false)], .deliveredAfterReplay),
        ([(.attempt, 1, true), (.deadLetter, 2, true), (.attempt, 4, true)], .retryingAfterReplay),
        ([(.attempt, 1, true), (.deadLetter, 2, true), (.attempt, 4, true), (.deadLetter, 5, true)], .deadLettered),
    ])
    func state(_ lines: [(ActivityLine.Kind, Double, Bool)], _ expected: DeliveryState) {
        #expect(DeliveryState(lines.map { Self.line($0.0, $0.1, failed: $0.2) }) == expected)
    }
}
