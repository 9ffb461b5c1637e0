import Foundation

/// Where the running executable really is: `/proc/self/exe` on Linux, so `sluice` started
/// by a `PATH` lookup or through a symlink, from any folder, finds what lies beside it.
/// (`CommandLine.arguments[0]` is only the name typed: `sluice` resolves against the
/// current folder.)
///
/// ```swift
/// let bin = ExecutableLocation.directory   // "/opt/sluice/bin", wherever we were started
/// ```
public enum ExecutableLocation {
    /// The executable's absolute path, symlinks resolved.
    public static var path: String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), target.hasPrefix("/") {
            return target
        }
        if let path = Bundle.main.executablePath { return URL(fileURLWithPath: path).resolvingSymlinksInPath().path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }

    /// The folder holding the executable.
    public static var directory: String { (path as NSString).deletingLastPathComponent }
}
