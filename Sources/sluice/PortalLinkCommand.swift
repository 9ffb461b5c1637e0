import ArgumentParser
import Foundation
import SluiceCore
import SluiceStage

/// `sluice portal-link`: a signed, expiring link into the tenant portal of `sluice-admin`.
struct PortalLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal-link",
        abstract: "Print a signed, expiring link that opens one tenant's portal in the dashboard.",
        discussion: """
            The tenant sees only its own endpoints, attempts and dead letters, and may manage them unless \
            --read-only. The link is signed (HMAC-SHA256) with a key derived from the master key \
            (SLUICE_MASTER_KEY): every sluice-admin with the same master key accepts it, until it expires. Nothing \
            is written to the broker. The admin offers the same as POST /ui/portal-links (admin key) and on its \
            Portal links page.

            Example: sluice portal-link --tenant acme --ttl 1h --read-only --url https://admin.example.com
            """)

    @OptionGroup var stage: ClientOptions
    @Option(help: "The tenant the link opens.") var tenant: String
    @Option(help: "How long the link works, 1m…7d.") var ttl = "1h"
    @Flag(help: "The tenant may look but not change anything.") var readOnly = false
    @Option(help: "The dashboard's external URL (env SLUICE_ADMIN_PUBLIC_URL; default http://127.0.0.1:8089).") var url: String?
    @Flag(help: "Print {\"url\": …, \"expires_at\": …}.") var json = false

    func run() async throws {
        let (_, delivery) = try await stage.resolveAll()
        guard let master = delivery.masterKey else { throw CLIError(PortalLinkError.noKey.description) }
        guard let duration = DurationText.parse(ttl) else { throw ValidationError("--ttl '\(ttl)': give a duration like 1h, 30m or 7d") }
        let link: PortalLink
        let key: [UInt8]
        do {
            key = try PortalLink.signingKey(masterKeyBase64: master)
            link = try PortalLink(tenant: tenant, ttl: duration, readOnly: readOnly)
        } catch { throw CLIError(error.description) }
        let base = url ?? ProcessInfo.processInfo.environment["SLUICE_ADMIN_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8089"
        let text = link.url(base: base, key: key)
        if json {
            let object: [String: Any] = ["url": text, "tenant": link.tenant, "read_only": link.readOnly, "expires_at": link.expiresAt.formatted(.iso8601)]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(text)
        }
    }
}
