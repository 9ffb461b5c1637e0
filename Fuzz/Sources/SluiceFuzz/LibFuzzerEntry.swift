import CLibFuzzer
import Foundation

// The libFuzzer binary of every target; SLUICE_FUZZ_TARGET names the one to run (a folder
// name of Fuzz/corpus). Built with `-sanitize=fuzzer` (instrumentation, and libFuzzer
// linked in). SwiftPM links `main` to this target's @main, so libFuzzer's own main is
// left out and this one hands over to its driver.

@main
enum SluiceFuzz {
    static func main() {
        guard let name = ProcessInfo.processInfo.environment["SLUICE_FUZZ_TARGET"], FuzzTarget(rawValue: name) != nil else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("set SLUICE_FUZZ_TARGET to one of: \(names)\n".utf8))
            exit(2)
        }
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
    }
}

/// The target of this process, read once from the environment.
let selectedTarget = ProcessInfo.processInfo.environment["SLUICE_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let target = selectedTarget else { return 0 }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if case .roundTripFailed(let why) = target.run(bytes) {
        // An accepted input that does not round-trip is a finding too: trap, so libFuzzer keeps it.
        fatalError(why)
    }
    return 0
}
