import Foundation
import SluiceCore
import SluiceHTTP
import SluiceTestSupport
import Testing

@Suite("The libcurl multi client against a real receiver (integration)")
struct CurlMultiClientIntegrationTests {
    static let client = CurlMultiClient(maxConnections: 256)

    func request(_ url: String, timeout: Duration = .seconds(5), resolve: String? = nil) -> WebhookRequest {
        WebhookRequest(
            url: url, headers: [("content-type", "application/json"), ("webhook-id", "msg_1")],
            body: Array(#"{"hello":"world"}"#.utf8), timeout: timeout, resolve: resolve, excerptLimit: 8)
    }

    @Test("a POST arrives with its headers and exact body; the answer's status and excerpt come back")
    func postsAndAnswers() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let response = try await Self.client.post(request(receiver.url("\(prefix)/status/202"))).get()
        #expect(response.status == 202)
        #expect(response.excerpt == "status 2", "only excerptLimit bytes are kept")
        let got = try #require(try receiver.received(prefix: prefix).first)
        #expect(got.headers["webhook-id"] == "msg_1")
        #expect(got.headers["content-type"] == "application/json")
        #expect(got.headers["expect"] == nil)
        #expect(got.body == Array(#"{"hello":"world"}"#.utf8))
    }

    @Test("redirects are not followed; Retry-After and Location are reported")
    func redirectsAndRetryAfter() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let redirect = try await Self.client.post(request(receiver.url("\(prefix)/redirect"))).get()
        #expect(redirect.status == 302)
        #expect(redirect.location == "/ok")
        #expect(try receiver.received(prefix: prefix).count == 1, "the redirect target was not requested")
        let busy = try await Self.client.post(request(receiver.url("\(prefix)/status/429?retry_after=7"))).get()
        #expect(busy.status == 429)
        #expect(busy.retryAfter == "7")
    }

    @Test("an answer larger than the receive buffer (a long header, a 20 KiB body) is read whole: the header after the long one, the excerpt, the connection kept for the next request")
    func largeAnswer() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        // A client of its own: the suite's shared one lends its connections to the other tests.
        let client = CurlMultiClient(maxConnections: 4)
        defer { client.shutdown() }
        let large = try await client.post(request(receiver.url("\(prefix)/large/20000"))).get()
        #expect(large.status == 503)
        #expect(large.retryAfter == "9", "the header after a 3,000-byte one")
        #expect(large.excerpt == "01234567", "only excerptLimit bytes are kept")
        let next = try await client.post(request(receiver.url("\(prefix)/status/200"))).get()
        #expect(next.status == 200, "the large body was read to its end: the next answer is its own")
        let seen = try receiver.received(prefix: prefix)
        #expect(seen.count == 2)
        #expect(Set(seen.map(\.peer_port)).count == 1, "both requests over one connection: \(seen.map(\.peer_port))")
    }

    @Test("failures are classified: timeout, refused connection, reset, unresolvable host")
    func failures() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        func failure(_ r: WebhookRequest) async -> Attempt.ErrorClass? {
            if case .failure(let e) = await Self.client.post(r) { return e.errorClass }
            return nil
        }
        #expect(await failure(request(receiver.url("\(prefix)/blackhole"), timeout: .milliseconds(500))) == .timeout)
        #expect(await failure(request("http://127.0.0.1:\(try freePort())/x")) == .connect)
        #expect(await failure(request(receiver.url("\(prefix)/reset"))) == .reset)
        #expect(await failure(request("http://no-such-host.invalid/x")) == .dns)
    }

    @Test("a pinned address is used whatever the host name resolves to")
    func pinnedAddress() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        // This name does not resolve at all; the pin alone reaches the receiver.
        let url = "http://webhooks.sluice.invalid:\(receiver.port)\(prefix)/ok"
        let response = try await Self.client.post(request(url, resolve: "webhooks.sluice.invalid:\(receiver.port):127.0.0.1")).get()
        #expect(response.status == 200)
        #expect(try receiver.received(prefix: prefix).first?.headers["host"] == "webhooks.sluice.invalid:\(receiver.port)")
    }

    @Test("a reused easy handle carries nothing of its last transfer: headers, body and timeout are the new request's")
    func reusedHandle() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        // A client of its own: one request at a time, so every request after the first
        // borrows the handle the one before gave back.
        let client = CurlMultiClient(maxConnections: 4)
        defer { client.shutdown() }
        let pinned = "http://first.sluice.invalid:\(receiver.port)\(prefix)/first/ok"
        let first = WebhookRequest(
            url: pinned, headers: [("x-first", "1")], body: Array(String(repeating: "a", count: 300).utf8), timeout: .seconds(5),
            resolve: "first.sluice.invalid:\(receiver.port):127.0.0.1", excerptLimit: 8)
        #expect(try await client.post(first).get().status == 200)
        let timedOut = WebhookRequest(url: receiver.url("\(prefix)/blackhole"), headers: [], body: [1], timeout: .milliseconds(300), resolve: nil)
        guard case .failure(let error) = await client.post(timedOut) else { Issue.record("the black hole answered"); return }
        #expect(error.errorClass == .timeout)
        let second = WebhookRequest(
            url: receiver.url("\(prefix)/second/ok"), headers: [("x-second", "2")], body: Array("b".utf8), timeout: .seconds(5), resolve: nil)
        #expect(try await client.post(second).get().status == 200, "the timeout is the new request's, not the black hole's")
        let got = try #require(try receiver.received(prefix: prefix + "/second").first)
        #expect(got.headers["x-second"] == "2")
        #expect(got.headers["x-first"] == nil, "the last transfer's headers are gone")
        #expect(got.body == Array("b".utf8), "the body and its length are the new request's")
    }

    @Test("hundreds of slow requests are in flight at once on the one loop thread")
    func concurrency() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let outcomes = await withTaskGroup(of: String.self) { group in
            for n in 0..<200 {
                group.addTask {
                    switch await Self.client.post(request(receiver.url("\(prefix)/delay/400?n=\(n)"), timeout: .seconds(30))) {
                    case .success(let r): return "\(r.status)"
                    case .failure(let e): return "\(e)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.count == 200)
        #expect(outcomes.allSatisfy { $0 == "200" }, "\(Dictionary(grouping: outcomes, by: { $0 }).mapValues(\.count))")
        #expect(try receiver.maxConcurrent() >= 50, "the requests overlapped at the receiver")
    }

    /// A client whose window holds `size` young transfers, parking them after `parkAfter`.
    func windowed(_ size: Int, parkAfter: Duration) -> CurlMultiClient {
        var window = TransferWindow.Config()
        (window.initial, window.floor, window.ceiling, window.parkAfter) = (size, size, size, parkAfter)
        return CurlMultiClient(maxConnections: 64, window: window)
    }

    @Test("requests past the window wait their turn, and every one is answered")
    func windowWaits() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = windowed(2, parkAfter: .seconds(60))
        defer { client.shutdown() }
        // All twelve handed over at once (microseconds), each answered after 100 ms: ten must
        // wait. Each completion notes the load as of the loop's last turn (a sampling task
        // on a loaded machine once saw no turn with a request waiting).
        let answers = Locked<[(status: Int, load: CurlMultiClient.Load)]>([])
        for n in 0..<12 {
            client.post(request(receiver.url("\(prefix)/delay/100?n=\(n)"))) { result in
                let status = (try? result.get().status) ?? -1
                answers.withLock { $0.append((status, client.load)) }
            }
        }
        #expect(await waitUntil(timeout: .seconds(60)) { answers.withLock { $0.count } == 12 })
        let seen = answers.withLock { $0 }
        #expect(seen.map(\.status) == Array(repeating: 200, count: 12))
        #expect(seen.allSatisfy { $0.load.young <= 2 }, "never more young transfers than the window: \(seen.map(\.load))")
        #expect(seen.contains { $0.load.waiting >= 1 }, "the others waited for room: \(seen.map(\.load))")
        #expect(await waitUntil(timeout: .seconds(30)) { client.load.inFlight == 0 }, "the loop's next turn shows none under way: \(client.load)")
    }

    @Test("a black hole parks out of the window: the next request is answered while it still waits")
    func blackHoleParks() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = windowed(1, parkAfter: .milliseconds(200))
        defer { client.shutdown() }
        let blackHole = Locked<Result<WebhookResponse, WebhookTransferError>?>(nil)
        client.post(request(receiver.url("\(prefix)/blackhole"), timeout: .seconds(20))) { result in blackHole.withLock { $0 = result } }
        let answer = try await client.post(request(receiver.url("\(prefix)/ok"))).get()
        #expect(answer.status == 200)
        #expect(blackHole.withLock { $0 } == nil, "answered while the black hole is still under way")
        #expect(await waitUntil(timeout: .seconds(10)) { (client.load.young, client.load.parked) == (0, 1) }, "the black hole parked: \(client.load)")
    }

    @Test("a completion runs once per request, all on the one loop thread, and may hand the client the next request")
    func completions() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let statuses = Locked<[Int]>([])
        let threads = Locked<Set<String>>([])
        let client = Self.client
        @Sendable func chain(_ n: Int) {
            client.post(request(receiver.url("\(prefix)/status/\(200 + n)"))) { result in
                statuses.withLock { $0.append((try? result.get().status) ?? -1) }
                threads.withLock { _ = $0.insert("\(pthread_self())") }
                if n < 4 { chain(n + 1) }
            }
        }
        chain(0)
        let deadline = ContinuousClock.now + .seconds(60)
        while statuses.withLock({ $0.count }) < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(statuses.withLock { $0 } == [200, 201, 202, 203, 204])
        #expect(threads.withLock { $0.count } == 1, "every completion on the client's loop thread")
    }

    @Test("shutdown fails a transfer under way as abandoned, and later posts at once, with a clear message")
    func shutdown() async throws {
        let receiver = try await TestReceiver.shared()
        let prefix = "/t-\(UUID().uuidString.prefix(8))"
        let client = CurlMultiClient(maxConnections: 4)
        let underWay = Task { await client.post(request(receiver.url("\(prefix)/blackhole"), timeout: .seconds(120))) }
        _ = try await receiver.awaitRequests(prefix: prefix, atLeast: 1, timeout: .seconds(60))
        client.shutdown()
        guard case .failure(let cut) = await underWay.value else {
            Issue.record("a transfer under way at shutdown must fail")
            return
        }
        #expect(cut.isAbandoned && cut.message.contains("shut down"), "\(cut)")
        guard case .failure(let error) = await client.post(request("http://127.0.0.1:1/")) else {
            Issue.record("a post after shutdown must fail")
            return
        }
        #expect(error.isAbandoned && error.message.contains("shut down"), "\(error)")
        if case .failure(let timedOut) = await Self.client.post(request(receiver.url("\(prefix)/blackhole"), timeout: .milliseconds(300))) {
            #expect(!timedOut.isAbandoned, "an endpoint's own failure is not abandoned")
        }
    }
}
