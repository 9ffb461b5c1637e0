import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address.
///
/// Parsing accepts what resolvers and HTTP clients accept, odd IPv4 spellings included
/// (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` are all 127.0.0.1), because an SSRF
/// check that parses less than the client connects to is bypassed.
///
/// ```swift
/// IPAddress(literal: "0x7f.1")            // 127.0.0.1
/// IPAddress(literal: "[::ffff:127.0.0.1]") // v6, maps 127.0.0.1
/// ```
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Host byte order.
    case v4(UInt32)
    /// 16 bytes, network order.
    case v6([UInt8])

    public init?(literal text: String) {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("%") else { return nil }
        if host.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, host, &address) == 1 else { return nil }
            self = .v6(withUnsafeBytes(of: address) { Array($0) })
            return
        }
        // inet_aton takes decimal, octal and hex parts and the short forms, like getaddrinfo.
        guard host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == "x" || $0 == "X" }) else { return nil }
        var address = in_addr()
        guard inet_aton(host, &address) != 0 else { return nil }
        self = .v4(UInt32(bigEndian: address.s_addr))
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\((value >> 16) & 0xff).\((value >> 8) & 0xff).\(value & 0xff)"
        case .v6(let bytes):
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }

    /// How the address is written in a URL (`[…]` around IPv6).
    public var urlHost: String {
        if case .v6 = self { return "[\(description)]" }
        return description
    }

    /// The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any.
    public var embeddedIPv4: IPAddress? {
        guard case .v6(let b) = self else { return nil }
        func v4(_ i: Int) -> IPAddress { .v4(UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])) }
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff { return v4(12) }  // ::ffff:a.b.c.d
        if b[0..<12].allSatisfy({ $0 == 0 }), !(b[12..<15].allSatisfy { $0 == 0 }) { return v4(12) }  // ::a.b.c.d
        if b[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return v4(12) }  // 64:ff9b::/96
        if b[0] == 0x20, b[1] == 0x02 { return v4(2) }  // 2002::/16 (6to4)
        return nil
    }
}
