/// A refusal or failure a command reports as `Error: <message>` with exit code 1 (not a
/// usage error, so no usage text follows).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
