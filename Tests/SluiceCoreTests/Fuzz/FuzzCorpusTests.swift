import Foundation
import SluiceCore
import Testing

/// The fuzz corpus, replayed without the fuzz build: every file of `Fuzz/corpus/<target>/`
/// goes to the decoder of its target (``FuzzTarget``, the same code libFuzzer runs).
///
/// Nothing may trap (a trap ends the test process), and an input a decoder accepts must
/// round-trip. Inputs that still trap wait in `Fuzz/regressions/<target>/` (see its
/// README) until their fix lands, then move here.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    /// The repository root: this file is Tests/SluiceCoreTests/Fuzz/FuzzCorpusTests.swift.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = root.appendingPathComponent("Fuzz/corpus")

    static func files(of target: FuzzTarget) throws -> [URL] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every input of the corpus decodes or is refused, without a trap; what is accepted round-trips", arguments: FuzzTarget.allCases)
    func corpusReplays(target: FuzzTarget) throws {
        let files = try Self.files(of: target)
        #expect(!files.isEmpty, "Fuzz/corpus/\(target) has no seeds")
        var accepted = 0
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            #expect(bytes.count <= target.maxLength, "\(file.lastPathComponent) is longer than libFuzzer's -max_len for \(target)")
            switch target.run(bytes) {
            case .accepted: accepted += 1
            case .rejected: break
            case .roundTripFailed(let why): Issue.record("Fuzz/corpus/\(target)/\(file.lastPathComponent): \(why)")
            }
        }
        // The seeds are there to start the fuzzer from valid inputs too, not only refused ones.
        #expect(accepted > 0, "no seed of Fuzz/corpus/\(target) is accepted")
    }

    @Test("every corpus folder is a fuzz target")
    func foldersAreTargets() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(FuzzTarget.allCases.map(\.rawValue)))
    }
}
