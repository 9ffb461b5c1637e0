import SluiceCore
import Testing

@Suite("ConfigFlag: the spellings of an on/off setting")
struct ConfigFlagTests {
    @Test("1, true, yes, on and 0, false, no, off in any case; anything else is nil")
    func spellings() {
        for text in ["1", "true", "YES", "On"] { #expect(ConfigFlag.parse(text) == true, "\(text)") }
        for text in ["0", "False", "no", "OFF"] { #expect(ConfigFlag.parse(text) == false, "\(text)") }
        for text in ["", "2", "sometimes", "enabled"] { #expect(ConfigFlag.parse(text) == nil, "\(text)") }
    }
}
