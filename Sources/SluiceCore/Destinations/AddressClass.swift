/// Why an address is not a public internet destination.
public enum AddressClass: String, Sendable, Equatable {
    case `public`, loopback, `private`, linkLocal = "link-local", cgnat = "carrier-grade NAT", multicast
    case unspecified, broadcast, documentation, metadata = "cloud metadata", reserved

    /// Classifies `address`; an IPv6 address carrying an IPv4 one takes the IPv4 one's class.
    public init(_ address: IPAddress) {
        if let embedded = address.embeddedIPv4 {
            self = AddressClass(embedded)
            return
        }
        switch address {
        case .v4(let a): self = Self.classify(v4: a)
        case .v6(let b): self = Self.classify(v6: b)
        }
    }

    private static func classify(v4 a: UInt32) -> AddressClass {
        func within(_ base: UInt32, _ bits: UInt32) -> Bool { bits == 0 || a >> (32 - bits) == base >> (32 - bits) }
        let ip = { (x: UInt32, y: UInt32, z: UInt32, w: UInt32) in x << 24 | y << 16 | z << 8 | w }
        if a == ip(169, 254, 169, 254) || a == ip(169, 254, 170, 2) || a == ip(100, 100, 100, 200) { return .metadata }
        if a == 0xffff_ffff { return .broadcast }
        if within(ip(0, 0, 0, 0), 8) { return .unspecified }
        if within(ip(127, 0, 0, 0), 8) { return .loopback }
        if within(ip(10, 0, 0, 0), 8) || within(ip(172, 16, 0, 0), 12) || within(ip(192, 168, 0, 0), 16) { return .private }
        if within(ip(169, 254, 0, 0), 16) { return .linkLocal }
        if within(ip(100, 64, 0, 0), 10) { return .cgnat }
        if within(ip(192, 0, 2, 0), 24) || within(ip(198, 51, 100, 0), 24) || within(ip(203, 0, 113, 0), 24) { return .documentation }
        if within(ip(224, 0, 0, 0), 4) { return .multicast }
        if within(ip(240, 0, 0, 0), 4) || within(ip(192, 0, 0, 0), 24) || within(ip(198, 18, 0, 0), 15) { return .reserved }
        return .public
    }

    private static func classify(v6 b: [UInt8]) -> AddressClass {
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return .loopback }
        if b == [0xfd, 0x00, 0x0e, 0xc2] + Array(repeating: 0, count: 10) + [0x02, 0x54] { return .metadata }  // fd00:ec2::254
        if b[0] & 0xfe == 0xfc { return .private }  // fc00::/7 unique local
        if b[0] == 0xfe, b[1] & 0xc0 == 0x80 { return .linkLocal }  // fe80::/10
        if b[0] == 0xfe, b[1] & 0xc0 == 0xc0 { return .private }  // fec0::/10 site-local (deprecated)
        if b[0] == 0xff { return .multicast }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0d, b[3] == 0xb8 { return .documentation }  // 2001:db8::/32
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0, b[3] == 0 { return .reserved }  // 2001::/32 Teredo
        if b[0..<8] == [0x01, 0, 0, 0, 0, 0, 0, 0] { return .reserved }  // 100::/64 discard
        if b[0..<6] == [0, 0x64, 0xff, 0x9b, 0, 0x01] { return .private }  // 64:ff9b:1::/48 local NAT64
        return .public
    }
}

/// An address range of an allow-list, e.g. `10.1.0.0/16` or `fd00::/8`.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    public let base: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let base = IPAddress(literal: parts[0]) else { return nil }
        let maxLength = if case .v4 = base { 32 } else { 128 }
        let length = parts.count == 2 ? Int(parts[1]) : maxLength
        guard let length, (0...maxLength).contains(length) else { return nil }
        self.base = base
        self.prefixLength = length
    }

    public func contains(_ address: IPAddress) -> Bool {
        switch (base, address) {
        case (.v4(let a), .v4(let b)):
            return prefixLength == 0 || a >> (32 - UInt32(prefixLength)) == b >> (32 - UInt32(prefixLength))
        case (.v6(let a), .v6(let b)):
            for bit in 0..<prefixLength where (a[bit / 8] ^ b[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 { return false }
            return true
        case (.v4, .v6):
            return address.embeddedIPv4.map(contains) ?? false
        default:
            return false
        }
    }

    public var description: String { "\(base)/\(prefixLength)" }
}
