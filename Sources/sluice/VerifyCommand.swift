import ArgumentParser
import Foundation
import SluiceCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a webhook's signature as a receiver would (Standard Webhooks).",
        discussion: """
            Exits 0 when a signature matches, 1 with the reason when none does.

            Example: sluice verify --secret whsec_… --id msg_1 --timestamp 1614265330 --signature 'v1,…' --body-file body.json
            """)

    @Option(help: "The endpoint's secret, whsec_….") var secret: String
    @Option(help: "The webhook-id header.") var id: String
    @Option(help: "The webhook-timestamp header (unix seconds).") var timestamp: String
    @Option(help: "The webhook-signature header: 'v1,…[ v1,…]'.") var signature: String
    @Option(help: "A file holding the exact request body.") var bodyFile: String
    @Option(help: "How far the timestamp may be from now, e.g. 5m.") var tolerance = "5m"

    func run() throws {
        let key: Secret
        do { key = try Secret(encoded: secret) } catch { throw ValidationError(error.description) }
        guard let tolerance = DurationText.parse(self.tolerance) else { throw ValidationError("--tolerance takes a duration like 5m") }
        guard let body = FileManager.default.contents(atPath: bodyFile) else {
            throw ValidationError("cannot read --body-file \(bodyFile)")
        }
        do {
            try WebhookVerifier(secrets: [key], tolerance: tolerance).verify(
                id: id, timestamp: timestamp, signatureHeader: signature, body: Array(body), now: Date())
            print("verified: signature matches")
        } catch {
            print("not verified: \(error)")
            throw ExitCode.failure
        }
    }
}
