import Testing

@testable import SluiceCore

@Suite("Duration text")
struct DurationTextTests {
    @Test("operator durations parse", arguments: [
        ("250ms", Duration.milliseconds(250)), ("30s", .seconds(30)), ("10m", .seconds(600)),
        ("6h", .seconds(21_600)), ("7d", .seconds(604_800)), ("1h30m", .seconds(5_400)), (" 2s ", .seconds(2)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test("anything else is refused", arguments: ["", "10", "s", "1x", "-5s", "1.5s", "10 m", "99999999999999999999d"])
    func refuses(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test("formats in the largest whole unit")
    func formats() {
        #expect(DurationText.format(.seconds(600)) == "10m")
        #expect(DurationText.format(.seconds(90)) == "90s")
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.seconds(86_400)) == "1d")
        #expect(DurationText.format(.zero) == "0ms")
    }
}
