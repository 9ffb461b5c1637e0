import CCurl
import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceHTTP

@Suite("Pinned addresses handed to curl once per host and multi handle (integration)")
struct CurlPinnedHostsIntegrationTests {
    @Test("later requests to a pinned host find its pin in curl's cache; a changed pin reaches curl at once")
    func heldAndChanged() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = CurlMultiClient(maxConnections: 4)
        defer { client.shutdown() }
        // `close`: every answer closes its connection, so each request connects to the
        // address curl holds for the name then (the name itself resolves nowhere).
        let url = receiver.url("\(prefix)/close", host: "repin.sluice.invalid")
        func post(to address: String) async -> String {
            let request = WebhookRequest(
                url: url, headers: [], body: [1], timeout: .seconds(10), resolve: "repin.sluice.invalid:\(receiver.port):\(address)")
            switch await client.post(request) {
            case .success(let response): return "\(response.status)"
            case .failure(let error): return error.errorClass.rawValue
            }
        }
        #expect(await post(to: "127.0.0.1") == "200", "the first carries the pin")
        #expect(await post(to: "127.0.0.1") == "200", "the next ones find it in curl's cache")
        #expect(await post(to: "127.0.0.1") == "200")
        #expect(await post(to: "127.0.0.2") == "connect", "moved: curl connects to the new address, where nothing listens")
        #expect(await post(to: "127.0.0.1") == "200", "and back")
        #expect(try receiver.received(prefix: prefix).count == 4)
    }

    @Test("a pinned request whose pin curl does not hold fails as dns and sends nothing; it never looks the name up")
    func refusesToResolve() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        CurlGlobal.initialize()
        let easy = try #require(curl_easy_init())
        defer { curl_easy_cleanup(easy) }
        CurlTransfer.configure(easy, secure: false)
        // `localhost` resolves through /etc/hosts: only the refusal stops curl from using it.
        let request = WebhookRequest(
            url: receiver.url("\(prefix)/ok", host: "localhost"), headers: [], body: [1], timeout: .seconds(10),
            resolve: "localhost:\(receiver.port):127.0.0.1")
        func perform(carryPin: Bool) -> CURLcode {
            let transfer = CurlTransfer(request, easy: easy, secure: false, carryPin: carryPin) { _ in }
            transfer.attach(Unmanaged.passUnretained(transfer).toOpaque())
            defer { CurlTransfer.detach(easy) }
            return curl_easy_perform(easy)
        }
        // A handle performed alone has a DNS cache of its own, empty at first.
        #expect(perform(carryPin: false) == CURLE_COULDNT_RESOLVE_HOST)
        #expect(try receiver.received(prefix: prefix).isEmpty)
        #expect(perform(carryPin: true) == CURLE_OK, "with its pin the same request goes through")
        #expect(try receiver.received(prefix: prefix).count == 1)
    }
}
