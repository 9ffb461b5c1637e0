import Foundation

/// The SSRF guard: which URLs Sluice may POST to, and the exact address to connect to.
///
/// A destination must be `https` (or `http` when allowed) and every address its host
/// resolves to must be public: loopback, private, link-local, CGNAT, multicast,
/// unspecified, broadcast, documentation, reserved and cloud-metadata addresses are
/// refused, in IPv4 and IPv6 (mapped, compatible, NAT64 and 6to4 forms included) and in
/// any IPv4 spelling, unless the allow-list names the range or host, or dev mode
/// (`allowPrivate`) permits them all.
///
/// ``resolve(_:resolver:)`` returns the checked address; the HTTP layer connects to that
/// address (curl's `CURLOPT_RESOLVE`), so a DNS answer that changes after the check
/// (rebinding) is never used.
///
/// ```swift
/// let policy = DestinationPolicy(allowHTTP: false, allowPrivate: false)
/// try policy.check("https://hooks.example.com/in")        // on its face, no DNS (endpoint create)
/// let target = try policy.resolve("https://hooks.example.com/in", resolver: SystemResolver())
/// target.curlResolveEntry   // "hooks.example.com:443:93.184.216.34"
/// ```
public struct DestinationPolicy: Sendable {
    public var allowHTTP: Bool
    /// Dev mode: loopback and private destinations are permitted.
    public var allowPrivate: Bool
    /// Address ranges permitted even though they are not public.
    public var allowedRanges: [AddressRange]
    /// Host names permitted whatever they resolve to (lowercase).
    public var allowedHosts: Set<String>

    public init(allowHTTP: Bool = false, allowPrivate: Bool = false, allowedRanges: [AddressRange] = [], allowedHosts: Set<String> = []) {
        self.allowHTTP = allowHTTP
        self.allowPrivate = allowPrivate
        self.allowedRanges = allowedRanges
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Parses an allow-list: comma-separated ranges (`10.0.0.0/8`, `fd00::/8`, an address)
    /// and host names.
    public init(allowHTTP: Bool, allowPrivate: Bool, allowList: String) throws(ConfigError) {
        var ranges: [AddressRange] = []
        var hosts: Set<String> = []
        for entry in allowList.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            if let range = AddressRange(entry) {
                ranges.append(range)
            } else if entry.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }), !entry.contains("/") {
                hosts.insert(entry.lowercased())
            } else {
                throw ConfigError(key: "destinations.allow", value: entry, expected: "address ranges (10.0.0.0/8) or host names")
            }
        }
        self.init(allowHTTP: allowHTTP, allowPrivate: allowPrivate, allowedRanges: ranges, allowedHosts: hosts)
    }

    /// Checks a URL on its face, without DNS: scheme, and a literal address in any spelling.
    /// Host names are checked again, resolved, at every delivery.
    @discardableResult
    public func check(_ text: String) throws(DestinationError) -> Destination {
        let destination = try Destination(parsing: text)
        if destination.scheme == "http", !allowHTTP { throw .httpNotAllowed }
        if let literal = IPAddress(literal: destination.host) { try permit(literal, host: destination.host) }
        return destination
    }

    /// Checks `text`, resolves its host, checks every address, and returns the one to connect to.
    public func resolve(_ text: String, resolver: some HostResolver) throws(DestinationError) -> ResolvedDestination {
        let destination = try check(text)
        let addresses: [IPAddress]
        if let literal = IPAddress(literal: destination.host) {
            addresses = [literal]
        } else {
            do { addresses = try resolver.addresses(of: destination.host) } catch {
                throw .unresolvable(host: destination.host, reason: "\(error)")
            }
            guard !addresses.isEmpty else { throw .unresolvable(host: destination.host, reason: "no addresses") }
            for address in addresses { try permit(address, host: destination.host) }
        }
        return ResolvedDestination(destination: destination, address: addresses[0])
    }

    private func permit(_ address: IPAddress, host: String) throws(DestinationError) {
        let kind = AddressClass(address)
        guard kind != .public else { return }
        if allowPrivate || allowedHosts.contains(host.lowercased()) || allowedRanges.contains(where: { $0.contains(address) }) {
            return
        }
        throw .refusedAddress(host: host, address: address, kind: kind)
    }
}

/// A parsed endpoint URL.
public struct Destination: Sendable, Equatable {
    public var url: String
    public var scheme: String
    /// The host as written (brackets removed from IPv6 literals), lowercased.
    public var host: String
    public var port: Int

    init(parsing text: String) throws(DestinationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw .malformed(text)
        }
        guard scheme == "https" || scheme == "http" else { throw .unsupportedScheme(scheme) }
        guard var host = components.host, !host.isEmpty else { throw .malformed(text) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        self.url = text
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }
}

/// A destination and the checked address the HTTP layer must connect to.
public struct ResolvedDestination: Sendable, Equatable {
    public let destination: Destination
    public let address: IPAddress
    /// `host:port:address` for curl's `CURLOPT_RESOLVE`, made once (dispatch pins every
    /// request with it; Foundation's substring search per delivery showed in its profile).
    public let curlResolveEntry: String

    public init(destination: Destination, address: IPAddress) {
        self.destination = destination
        self.address = address
        let host = destination.host.utf8.contains(UInt8(ascii: ":")) ? "[\(destination.host)]" : destination.host
        curlResolveEntry = "\(host):\(destination.port):\(address)"
    }
}

/// Resolves host names to addresses (injectable, so tests can change answers).
public protocol HostResolver: Sendable {
    func addresses(of host: String) throws -> [IPAddress]
}

/// Why a destination is refused.
public enum DestinationError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedScheme(String)
    case httpNotAllowed
    case refusedAddress(host: String, address: IPAddress, kind: AddressClass)
    case unresolvable(host: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let text): return "'\(text)' is not an absolute http(s) URL"
        case .unsupportedScheme(let s): return "scheme '\(s)' is not supported; use https"
        case .httpNotAllowed:
            return "plain http:// is refused; use https, or set SLUICE_ALLOW_HTTP=1 (dev only)"
        case .refusedAddress(let host, let address, let kind):
            return "\(host) is \(address), a \(kind.rawValue) address; Sluice refuses those (SSRF guard). "
                + "Allow it with SLUICE_DESTINATIONS_ALLOW=<range or host>, or SLUICE_ALLOW_PRIVATE=1 in dev"
        case .unresolvable(let host, let reason): return "cannot resolve \(host): \(reason)"
        }
    }

    /// True when trying again later may succeed (DNS trouble); refusals are final.
    public var isRetriable: Bool { if case .unresolvable = self { true } else { false } }
}
