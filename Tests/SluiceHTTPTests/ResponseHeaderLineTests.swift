import Testing

@testable import SluiceHTTP

@Suite("Response header lines")
struct ResponseHeaderLineTests {
    static func parse(_ line: String) -> ResponseHeaderLine.Parsed? {
        ResponseHeaderLine.parse(Array(line.utf8)).map { .init(header: $0.header, value: $0.value) }
    }

    @Test("Retry-After and Location in any case, values trimmed of spaces, tabs, CR and LF")
    func kept() {
        #expect(Self.parse("Retry-After: 120\r\n") == .init(header: .retryAfter, value: "120"))
        #expect(Self.parse("retry-after:\t Wed, 21 Oct 2026 07:28:00 GMT \r\n") == .init(header: .retryAfter, value: "Wed, 21 Oct 2026 07:28:00 GMT"))
        #expect(Self.parse("LOCATION: https://elsewhere.test/in\r\n") == .init(header: .location, value: "https://elsewhere.test/in"))
        #expect(Self.parse("Location:\r\n") == .init(header: .location, value: ""))
        #expect(Self.parse("Location: a:b:c\r\n") == .init(header: .location, value: "a:b:c"), "only the first colon splits")
    }

    @Test("other lines are nil: other names, near misses, the status line, no colon")
    func ignored() {
        for line in ["Content-Type: text/plain\r\n", "Retry-Afte: 1\r\n", "Retry-After-X: 1\r\n", "X-Location: y\r\n",
            "HTTP/1.1 503 Service Unavailable\r\n", "\r\n", "", "Retry\u{00C0}fter: 1\r\n", " Location: y\r\n"] {
            #expect(Self.parse(line) == nil, "\(line.debugDescription)")
        }
    }

    @Test("bytes that are not UTF-8 in a value are replaced, not trusted")
    func badBytes() {
        let parsed = ResponseHeaderLine.parse(Array("Location: ".utf8) + [0xFF, 0xFE] + Array("\r\n".utf8))
        #expect(parsed?.header == .location)
        #expect(parsed?.value == "\u{FFFD}\u{FFFD}")
    }
}

extension ResponseHeaderLine {
    struct Parsed: Equatable {
        var header: ResponseHeaderLine
        var value: String
    }
}
