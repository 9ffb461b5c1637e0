import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// The README's receiver guide: its Python verification snippet, run against webhooks
/// Sluice signed, so the guide cannot drift from what dispatch sends.
@Suite("the README's receiver guide")
struct ReceiverGuideTests {
    @Test("the Python snippet accepts Sluice's signatures (one secret, and two during a rotation) and refuses a changed body or an old timestamp")
    func pythonSnippet() throws {
        let readme = try String(contentsOf: TestBroker.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```python\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let snippet = String(readme[start.upperBound..<end.lowerBound])

        let (old, new) = (Secret.generate(), Secret.generate())
        let body = Array(#"{"id":"evt_1","type":"order.created","data":{"n":1}}"#.utf8)
        let now = Int64(Date().timeIntervalSince1970)
        let rotating = WebhookSigner.headers(id: "evt_1", timestamp: now, body: body, secrets: [new, old])
        let stale = WebhookSigner.headers(id: "evt_1", timestamp: now - 3600, body: body, secrets: [new])
        func call(_ secret: Secret, _ headers: [String: String], _ body: [UInt8]) -> String {
            let json = String(decoding: try! JSONSerialization.data(withJSONObject: headers), as: UTF8.self)
            return "print(verify(\(pythonString(secret.encoded)), json.loads(\(pythonString(json))), base64.b64decode(\(pythonString(Data(body).base64EncodedString())))))"
        }
        let script = snippet + "\nimport json\n" + [
            call(old, rotating, body), call(new, rotating, body), call(new, rotating, body + Array(" ".utf8)),
            call(new, stale, body), call(Secret.generate(), rotating, body),
        ].joined(separator: "\n")
        let path = Scratch.path("receiver-guide", suffix: ".py")
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runCommand(["python3", path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.split(separator: "\n").map(String.init) == ["True", "True", "False", "False", "False"], "\(result.output)")
    }

    func pythonString(_ text: String) -> String { "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
}
