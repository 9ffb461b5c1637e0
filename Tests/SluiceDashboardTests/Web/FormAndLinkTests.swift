import Foundation
import Testing

@testable import SluiceDashboard

@Suite struct FormAndLinkTests {
    @Test func formsDecodeEscapesAndPlus() throws {
        let form = try FormBody(parsing: "url=https%3A%2F%2Fa.example%2Fh%3Fx%3D1&types=order.*%2C+invoice.paid&empty=&flag&bad=%zz")
        #expect(form["url"] == "https://a.example/h?x=1")
        #expect(form["types"] == "order.*, invoice.paid")
        #expect(form["empty"] == "" && form.nonEmpty("empty") == nil)
        #expect(form["flag"] == "")
        #expect(form["bad"] == "%zz")
    }

    @Test func formsAreBounded() {
        #expect(throws: FormError.tooLarge) { try FormBody(parsing: String(repeating: "a", count: FormBody.maxBytes + 1)) }
        #expect(throws: FormError.tooManyFields) { try FormBody(parsing: (0...FormBody.maxFields).map { "f\($0)=1" }.joined(separator: "&")) }
    }

    @Test(arguments: [
        ("/ui/endpoints", "/ui/endpoints"), ("https://evil.example/", "/ui/"), ("//evil.example", "/ui/"), ("/ui\\..\\x", "/ui/"),
        ("/v1/endpoints", "/ui/"), ("/ui/x\r\nSet-Cookie: a=b", "/ui/"),
    ])
    func redirectsStayLocal(_ candidate: String, _ expected: String) {
        #expect(UIError.localPath(candidate) == expected)
    }

    @Test func linksEncodeIDs() {
        #expect(URLText.event("a/b?c=d&e") == "/ui/events/a%2Fb%3Fc%3Dd%26e")
        #expect(URLText.link("/ui/endpoints/ep_1", ["outcome": "retrying", "event": nil, "status": ""]) == "/ui/endpoints/ep_1?outcome=retrying")
        #expect(URLText.link("/x", ["b": "2 3", "a": "1"]) == "/x?a=1&b=2%203")
    }

    @Test func timesParseOrAreRefused() throws {
        #expect(try Format.parseTime("2026-01-31T00:00:00Z", field: "since") == Date(timeIntervalSince1970: 1_769_817_600))
        #expect(try Format.parseTime("2026-01-31", field: "since") == Date(timeIntervalSince1970: 1_769_817_600))
        #expect(try Format.parseTime("  ", field: "since") == nil)
        #expect(throws: UIError.self) { try Format.parseTime("yesterday", field: "since") }
    }
}
