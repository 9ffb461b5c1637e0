import FlyingFox
import Foundation
import SluiceCore

/// The webhook receiver `sluice dev` starts: an HTTP server on loopback that checks each
/// webhook's Standard Webhooks signature, as a real receiver should, and prints one line
/// per webhook: `verified` when the signature checks out, `REJECTED` (and a 401) when not.
///
/// Invariant: a webhook is answered 2xx only if its signature verified against one of
/// `secrets` within the timestamp tolerance; each line names the webhook-id, so
/// duplicates (at-least-once) show as repeated ids.
///
/// ```swift
/// let receiver = DemoReceiver(host: "127.0.0.1", port: 8080, secrets: [try Secret(encoded: "whsec_…")])
/// try await receiver.run()   // prints: verified webhook evt_… type=demo.hello (attempt 1) …
/// ```
public struct DemoReceiver: Sendable {
    public let host: String
    public let port: Int
    public let secrets: [Secret]
    /// Where the lines go (standard output by default).
    let emit: @Sendable (String) -> Void

    public init(host: String = "127.0.0.1", port: Int, secrets: [Secret], emit: @escaping @Sendable (String) -> Void = DevSession.printLine) {
        self.host = host
        self.port = port
        self.secrets = secrets
        self.emit = emit
    }

    /// Serves until cancelled.
    public func run() async throws {
        let server = HTTPServer(address: try .inet(ip4: host, port: UInt16(port)), logger: .disabled)
        await server.appendRoute("POST *") { request in
            await self.handle(request)
        }
        emit("receiver listening on http://\(host):\(port)/ (verifying Standard Webhooks signatures)")
        try await server.run()
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let body = (try? await request.bodyData).map { [UInt8]($0) } ?? []
        let id = request.headers[HTTPHeader("webhook-id")] ?? ""
        let verdict = Self.check(
            id: id, timestamp: request.headers[HTTPHeader("webhook-timestamp")] ?? "",
            signature: request.headers[HTTPHeader("webhook-signature")] ?? "", body: body, secrets: secrets, now: Date())
        emit(verdict.line(path: request.path, body: body))
        return HTTPResponse(statusCode: verdict.accepted ? .noContent : .unauthorized)
    }

    /// What the receiver concluded about one webhook.
    struct Verdict: Equatable {
        var id: String
        var accepted: Bool
        var reason: String?

        func line(path: String, body: [UInt8]) -> String {
            let event = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
            let type = event?["type"]?.stringValue ?? "?"
            let tenant = event?["tenant"]?.stringValue.map { " tenant=\($0)" } ?? ""
            if accepted { return "verified webhook \(id) type=\(type)\(tenant) path=\(path) bytes=\(body.count)" }
            return "REJECTED webhook \(id.isEmpty ? "(no webhook-id)" : id): \(reason ?? "unknown") path=\(path)"
        }
    }

    /// Checks one webhook as a receiver would.
    static func check(id: String, timestamp: String, signature: String, body: [UInt8], secrets: [Secret], now: Date) -> Verdict {
        do {
            try WebhookVerifier(secrets: secrets).verify(id: id, timestamp: timestamp, signatureHeader: signature, body: body, now: now)
            return Verdict(id: id, accepted: true)
        } catch {
            return Verdict(id: id, accepted: false, reason: "\(error)")
        }
    }
}
