import CCurl
import PropertyBased
import Testing

@testable import SluiceHTTP

/// The lines of a `curl_slist`, as curl walks it.
private func lines(_ list: UnsafeMutablePointer<curl_slist>?) -> [String] {
    var out: [String] = []
    var node = list
    while let current = node {
        out.append(String(cString: current.pointee.data))
        node = current.pointee.next
    }
    return out
}

@Suite("A request's bytes as curl reads them")
struct CurlRequestBytesTests {
    @Test("headers become `Name: value` lines in order, then `Expect:`; the pin and the body are kept whole")
    func layout() {
        let body = Array(#"{"type":"order.paid","data":{"note":"ünïcødé ✓"}}"#.utf8)
        let request = WebhookRequest(
            url: "https://hooks.acme.test/in",
            headers: [("content-type", "application/json"), ("webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
                      ("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,older=")],
            body: body, resolve: "hooks.acme.test:443:203.0.113.7")
        let bytes = CurlRequestBytes(request)
        defer { bytes.deallocate() }
        #expect(lines(bytes.headers) == [
            "content-type: application/json", "webhook-id: msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,older=", "Expect:",
        ])
        #expect(lines(bytes.resolve) == ["hooks.acme.test:443:203.0.113.7"])
        #expect(Array(UnsafeRawBufferPointer(start: bytes.body, count: body.count)) == body)
    }

    @Test("no headers, no pin and an empty body: only `Expect:`, no resolve list, a body address all the same")
    func empty() {
        let bytes = CurlRequestBytes(WebhookRequest(url: "http://127.0.0.1:9/", headers: [], body: []))
        defer { bytes.deallocate() }
        #expect(lines(bytes.headers) == ["Expect:"])
        #expect(bytes.resolve == nil)
    }

    /// Header text of every width of UTF-8; bodies of any byte but NUL (curl is given their length).
    static let text = Gen.element(of: ["a", "Z", "0", "-", "_", " ", ",", "=", "/", "+", "é", "✓", "😀"]).map { $0 ?? "" }.array(of: 0...30).map { $0.joined() }
    static let headers = zip(Self.text.map { "x-" + $0 }, Self.text).map { (name: $0, value: $1) }.array(of: 0...12)
    static let body = Gen.int(in: 1...255).map { UInt8($0) }.array(of: 0...300)

    @Test("any header text and body survive the copy")
    func random() async {
        await propertyCheck(input: Self.headers, Self.body) { headers, body in
            let bytes = CurlRequestBytes(WebhookRequest(url: "http://x.test/", headers: headers, body: body))
            defer { bytes.deallocate() }
            #expect(lines(bytes.headers) == headers.map { "\($0.name): \($0.value)" } + ["Expect:"])
            #expect(Array(UnsafeRawBufferPointer(start: bytes.body, count: body.count)) == body)
        }
    }
}
