import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

/// A resolver whose answers a test sets, and can change between calls.
final class FakeResolver: HostResolver, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: [[IPAddress]]] = [:]
    private var counted = 0
    init(_ answers: [String: [[IPAddress]]]) { self.answers = answers }
    /// How many lookups were asked for.
    var calls: Int {
        lock.lock()
        defer { lock.unlock() }
        return counted
    }
    func addresses(of host: String) throws -> [IPAddress] {
        lock.lock()
        defer { lock.unlock() }
        counted += 1
        guard var queue = answers[host], !queue.isEmpty else { throw ResolverError(message: "NXDOMAIN") }
        let first = queue.removeFirst()
        answers[host] = queue.isEmpty ? [first] : queue
        return first
    }
}

@Suite("Destination policy (SSRF)")
struct DestinationPolicyTests {
    let strict = DestinationPolicy(allowHTTP: true, allowPrivate: false)

    @Test("literal non-public addresses are refused in every spelling", arguments: [
        "http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/",
        "http://0x7f000001/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://10.1.2.3/",
        "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/",
        "http://255.255.255.255/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[ff02::1]/", "http://192.0.2.1/",
        "http://[2001:db8::1]/", "http://198.18.0.1/", "http://localhost./",
    ])
    func refusesLiterals(url: String) throws {
        if url.contains("localhost") {
            // A name, not a literal: refused at resolution.
            #expect(throws: DestinationError.self) { try strict.resolve(url, resolver: FakeResolver(["localhost": [[.v4(0x7f00_0001)]]])) }
            return
        }
        #expect { try strict.check(url) } throws: { error in
            guard case .refusedAddress = error as? DestinationError else { return false }
            return "\(error)".contains("SLUICE_ALLOW_PRIVATE")
        }
    }

    @Test("metadata and CGNAT addresses are named as such")
    func names() {
        #expect(AddressClass(IPAddress(literal: "169.254.169.254")!) == .metadata)
        #expect(AddressClass(IPAddress(literal: "fd00:ec2::254")!) == .metadata)
        #expect(AddressClass(IPAddress(literal: "100.64.1.1")!) == .cgnat)
        #expect(AddressClass(IPAddress(literal: "::ffff:10.0.0.1")!) == .private)
        #expect(AddressClass(IPAddress(literal: "93.184.216.34")!) == .public)
        #expect(AddressClass(IPAddress(literal: "2606:4700::1")!) == .public)
    }

    @Test("public literals pass; http is refused unless allowed; bad URLs say so")
    func schemes() throws {
        #expect(try strict.check("https://93.184.216.34:8443/hook").port == 8443)
        #expect(throws: DestinationError.httpNotAllowed) { try DestinationPolicy().check("http://example.com/") }
        #expect(throws: DestinationError.unsupportedScheme("ftp")) { try strict.check("ftp://example.com/") }
        #expect(throws: DestinationError.malformed("not a url")) { try strict.check("not a url") }
        #expect(try DestinationPolicy().check("https://Example.COM./x").host == "example.com")
    }

    @Test("dev mode and the allow-list permit private destinations")
    func allowances() throws {
        try DestinationPolicy(allowHTTP: true, allowPrivate: true).check("http://127.0.0.1:8080/")
        let listed = try DestinationPolicy(allowHTTP: true, allowPrivate: false, allowList: "10.1.0.0/16, fd00::/8, hooks.internal")
        try listed.check("http://10.1.2.3/")
        try listed.check("http://[fd12::1]/")
        #expect(throws: DestinationError.self) { try listed.check("http://10.2.0.1/") }
        _ = try listed.resolve("http://hooks.internal/", resolver: FakeResolver(["hooks.internal": [[.v4(0x0a09_0909)]]]))
        #expect(throws: ConfigError.self) { try DestinationPolicy(allowHTTP: false, allowPrivate: false, allowList: "10.0.0.0/99") }
    }

    @Test("a host is refused if any address it resolves to is refused; the checked address is pinned")
    func resolution() throws {
        let resolver = FakeResolver([
            "mixed.test": [[.v4(0x5db8_d822), .v4(0x7f00_0001)]],
            // Rebinding: public at check time, loopback afterwards.
            "rebind.test": [[.v4(0x5db8_d822)], [.v4(0x7f00_0001)]],
        ])
        #expect(throws: DestinationError.self) { try strict.resolve("https://mixed.test/", resolver: resolver) }
        let target = try strict.resolve("https://rebind.test/hook", resolver: resolver)
        #expect(target.address == .v4(0x5db8_d822))
        #expect(target.curlResolveEntry == "rebind.test:443:93.184.216.34")
        #expect(throws: DestinationError.self) { try strict.resolve("https://rebind.test/hook", resolver: resolver) }
        #expect { try strict.resolve("https://nx.test/", resolver: resolver) } throws: { ($0 as? DestinationError)?.isRetriable == true }
    }

    @Test("any private or loopback IPv4, in any spelling, is refused")
    func privateProperty() async {
        let bases: [UInt32] = [0x7f00_0000, 0x0a00_0000, 0xc0a8_0000, 0xac10_0000, 0xa9fe_0000]
        await propertyCheck(input: Gen.int(in: 0...4), Gen.uint32(in: 0...0xffff), Gen.int(in: 0...4)) { base, low, spelling in
            let a = bases[base] | low
            let text: String
            switch spelling {
            case 0: text = IPAddress.v4(a).description
            case 1: text = String(a)
            case 2: text = "0x" + String(a, radix: 16)
            case 3: text = "0" + String(a >> 24, radix: 8) + "." + String((a >> 16) & 0xff) + "." + String(a & 0xffff)
            default: text = "[::ffff:\(IPAddress.v4(a).description)]"
            }
            #expect(throws: DestinationError.self) { try strict.check("http://\(text)/") }
        }
    }
}
