/// The spellings of an on/off setting, shared by every flag the settings read
/// (`allow.http`, `kafka.gap_check`, …), so one accepts what another does.
///
/// Invariant: case is ignored; anything but the eight words below is nil, for the caller
/// to refuse by name.
///
/// ```swift
/// ConfigFlag.parse("On")     // true
/// ConfigFlag.parse("maybe")  // nil
/// ```
public enum ConfigFlag {
    /// `1`, `true`, `yes`, `on` → true; `0`, `false`, `no`, `off` → false; else nil.
    public static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }
}
