import Foundation
import SluiceCore
import Testing

@testable import SluiceAdmin

/// The committed server code was generated from the committed spec (`make openapi`), and
/// nobody edited it by hand: Generated/GENERATED_FROM holds the SHA-256 of every input and
/// output of the last generation. (`make openapi-check` regenerates and diffs, which needs
/// the generator built.)
@Suite("OpenAPI generation")
struct OpenAPIGenerationTests {
    static let admin = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/SluiceAdmin")

    @Test("Generated/ matches openapi.yaml and the generator config (else run make openapi)")
    func stamp() throws {
        let stamp = try String(contentsOf: Self.admin.appendingPathComponent("Generated/GENERATED_FROM"), encoding: .utf8)
        let lines = stamp.split(separator: "\n")
        let generated = try FileManager.default.contentsOfDirectory(atPath: Self.admin.appendingPathComponent("Generated").path)
            .filter { $0.hasSuffix(".swift") }
        #expect(Set(lines.compactMap { $0.split(separator: " ").last.map(String.init) }) == Set(generated + ["openapi.yaml", "openapi-generator-config.yaml"]), "every generated file is stamped")
        for line in lines {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            try #require(parts.count == 2)
            let name = String(parts[1])
            let folder = name.hasPrefix("openapi") ? Self.admin : Self.admin.appendingPathComponent("Generated")
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            #expect(WebhookSigner.sha256Hex(Array(bytes)) == String(parts[0]), "\(name) changed since the last `make openapi`: run it and commit Generated/")
        }
    }

    @Test("the served document is the spec file")
    func servedDocument() throws {
        let file = try String(contentsOf: Self.admin.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml + "\n" == file || OpenAPIDocument.yaml == file)
        #expect(OpenAPIDocument.yaml.hasPrefix("openapi: 3.1"))
    }
}
