/// A refusal or failure a command reports as `Error: <message>` with exit code 1 (not a
/// usage error, so no usage text follows).
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
