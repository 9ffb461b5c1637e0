import Foundation
import Testing

@testable import SluiceCore

@Suite("Endpoint changes (the checks the CLI and the admin API share)")
struct EndpointChangeTests {
    func endpoint() throws -> Endpoint {
        Endpoint(id: "ep_1", tenant: "acme", url: "https://hooks.example.com/in", filter: .all, sealedSecret: "sealed")
    }

    @Test("what is given changes; the rest stays")
    func applies() throws {
        var e = try endpoint()
        var change = EndpointChange()
        change.url = "https://hooks.example.com/v2"
        change.types = ["order.*", "invoice.paid"]
        change.timeout = "5s"
        change.rateLimit = 10
        change.concurrency = 4
        change.schedule = "0s,1m"
        change.note = "payments"
        change.headers = ["x-team": "pay"]
        try change.apply(to: &e, destinations: DestinationPolicy())
        #expect(e.url == "https://hooks.example.com/v2" && e.filter.patterns == ["invoice.paid", "order.*"])
        #expect(e.timeoutMs == 5000 && e.rateLimit == 10 && e.concurrency == 4 && e.schedule == "0s,1m" && e.note == "payments")
        #expect(e.headers == ["x-team": "pay"] && e.revision == 1)
        var removal = EndpointChange()
        removal.removedHeaders = ["x-team"]
        try removal.apply(to: &e, destinations: DestinationPolicy())
        #expect(e.headers.isEmpty && e.url == "https://hooks.example.com/v2")
    }

    /// One bad value each, and the field its refusal must name.
    enum Bad: String, CaseIterable, Sendable {
        case timeoutText, timeoutLong, rateZero, rateInfinite, concurrencyZero, schedule, filter, headerName, longNote

        var field: String {
            switch self {
            case .timeoutText, .timeoutLong: return "timeout"
            case .rateZero, .rateInfinite: return "rate_limit"
            case .concurrencyZero: return "concurrency"
            case .schedule: return "schedule"
            case .filter: return "types"
            case .headerName, .longNote: return "endpoint"
            }
        }

        var change: EndpointChange {
            var c = EndpointChange()
            switch self {
            case .timeoutText: c.timeout = "soon"
            case .timeoutLong: c.timeout = "11m"
            case .rateZero: c.rateLimit = 0
            case .rateInfinite: c.rateLimit = .infinity
            case .concurrencyZero: c.concurrency = 0
            case .schedule: c.schedule = "later"
            case .filter: c.types = ["or*der"]
            case .headerName: c.headers = ["bad name": "x"]
            case .longNote: c.note = String(repeating: "x", count: 2000)
            }
            return c
        }
    }

    @Test("refusals name the field and leave the endpoint as it was", arguments: Bad.allCases)
    func refusals(bad: Bad) throws {
        var e = try endpoint()
        let before = e
        do {
            try bad.change.apply(to: &e, destinations: DestinationPolicy())
            Issue.record("\(bad) was accepted")
        } catch {
            if case .invalid(let got, _) = error { #expect(got == bad.field) } else { Issue.record("expected invalid(\(bad.field)), got \(error)") }
        }
        #expect(e == before)
    }

    @Test("the destination policy refuses private and plain-http URLs, saying how to allow them")
    func destinations() throws {
        var e = try endpoint()
        var change = EndpointChange()
        change.url = "https://10.0.0.1/x"
        #expect(throws: EndpointChangeError.self) { try change.apply(to: &e, destinations: DestinationPolicy()) }
        do { try change.apply(to: &e, destinations: DestinationPolicy()) } catch {
            #expect(error.description.contains("SLUICE_ALLOW_PRIVATE"), "\(error)")
        }
        change.url = "http://hooks.example.com/x"
        do { try change.apply(to: &e, destinations: DestinationPolicy()); Issue.record("http accepted") } catch {
            #expect(error.description.contains("SLUICE_ALLOW_HTTP"), "\(error)")
        }
        try change.apply(to: &e, destinations: DestinationPolicy(allowHTTP: true))
        #expect(e.url == "http://hooks.example.com/x")
    }
}
