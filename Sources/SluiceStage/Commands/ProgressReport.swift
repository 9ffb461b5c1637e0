import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Progress of long operator work on standard error: a bar redrawn in place on a
/// terminal, plain lines (at most every two seconds, and at the end) otherwise, so logs
/// and CI output stay readable.
///
/// ```swift
/// var report = ProgressReport(title: "replay rp_1a2b")
/// report.update(done: 40, total: 120)
/// report.finish()
/// ```
public struct ProgressReport {
    let title: String
    let isTerminal: Bool
    private var lastLine = ContinuousClock.now - .seconds(10)
    private var drawn = false

    public init(title: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.title = title
        self.isTerminal = isTerminal
    }

    public mutating func update(done: Int, total: Int) {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        if isTerminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data("\r\(title) \(bar) \(done)/\(total) (\(Int(fraction * 100))%)".utf8))
            drawn = true
        } else if ContinuousClock.now - lastLine >= .seconds(2) || done == total {
            FileHandle.standardError.write(Data("\(title): \(done)/\(total) (\(Int(fraction * 100))%)\n".utf8))
            lastLine = .now
        }
    }

    /// Progress without a known total: a count redrawn in place on a terminal, a line at
    /// most every two seconds otherwise.
    public mutating func update(count: Int, unit: String) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(title): \(count) \(unit)".utf8))
            drawn = true
        } else if ContinuousClock.now - lastLine >= .seconds(2) {
            FileHandle.standardError.write(Data("\(title): \(count) \(unit)\n".utf8))
            lastLine = .now
        }
    }

    /// Ends the bar's line on a terminal.
    public mutating func finish() {
        if isTerminal, drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
