import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Ports on 127.0.0.1: is one free, pick a free one, does something listen there.
///
/// Invariant: every answer is a snapshot; another process may take a port just after.
///
/// ```swift
/// let port = LoopbackPort.isFree(9092) ? 9092 : try LoopbackPort.free()
/// ```
public enum LoopbackPort {
    /// Whether `port` can be bound on 127.0.0.1 now.
    public static func isFree(_ port: Int) -> Bool { (try? bind(port)) != nil }

    /// A port the system hands out as free.
    public static func free() throws -> Int { try bind(0) }

    /// The first free port from `preferred` up to `preferred + span - 1`.
    public static func firstFree(from preferred: Int, span: Int = 50) -> Int? {
        (preferred..<min(65536, preferred + span)).first(where: isFree)
    }

    /// The port `sluice dev` gives `what`: `requested` (the option `flag`) if it is free,
    /// else an error saying what to do; without one, the first free port from
    /// `preferred`, saying so through `say` when it is not `preferred`.
    static func choose(_ requested: Int?, preferred: Int, flag: String, what: String, say: (String) -> Void) throws -> Int {
        if let requested {
            guard isFree(requested) else {
                throw CLIError("\(what) port \(requested) is taken; pass another \(flag), or leave \(flag) out to pick a free one")
            }
            return requested
        }
        guard let port = firstFree(from: preferred) else {
            throw CLIError("no free port in \(preferred)…\(preferred + 49) for the \(what); pass \(flag) with a free one")
        }
        if port != preferred { say("dev: port \(preferred) is taken; the \(what) uses \(port)") }
        return port
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func bind(_ port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("cannot open a socket (errno \(errno))") }
        defer { close(fd) }
        var address = loopback(port)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw CLIError("127.0.0.1:\(port) is taken") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}

/// Free loopback ports handed out each at most once: what a `sluice dev` session gives its
/// children, and what the tests give the processes they start. A process binds its port only
/// once it runs, so until then the system may hand the same free port out again (a run gave
/// the demo receiver and a tier's metrics endpoint one port, and the tier exited with
/// "address already in use").
///
/// Ports come from below the range the system hands out to outgoing connections
/// (`ip_local_port_range`): a port from that range can be taken by any connection between
/// the check and the bind (a fresh-clone test run: "broker port 59379 is taken"), a port
/// below it only by a program that asks for it by number.
///
/// Invariant: ``next()`` never returns a port it returned before or one of `reserved`.
///
/// ```swift
/// var ports = LoopbackPortPool(reserved: [brokerPort])
/// let receiver = try ports.next(), metrics = try ports.next()   // distinct
/// ```
public struct LoopbackPortPool: Sendable {
    private var given: Set<Int>
    /// Where the ports handed out are drawn from.
    let range: Range<Int>

    public init(reserved: [Int] = []) {
        given = Set(reserved)
        let ephemeral = Self.ephemeralStart()
        range = ephemeral > 12_000 ? 10_000..<ephemeral : 0..<0
    }

    /// The first port of the system's range for outgoing connections (32768 unless
    /// `/proc/sys/net/ipv4/ip_local_port_range` says otherwise).
    static func ephemeralStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    }

    /// A free port not handed out yet: a random free one of ``range``, else (no room below
    /// the system's range, or none free there) one the system hands out.
    public mutating func next() throws -> Int {
        for _ in 0..<(range.isEmpty ? 0 : 256) {
            let port = Int.random(in: range)
            if !given.contains(port), LoopbackPort.isFree(port) {
                given.insert(port)
                return port
            }
        }
        for _ in 0..<64 {
            let port = try LoopbackPort.free()
            if given.insert(port).inserted { return port }
        }
        throw CLIError("no free loopback port found that has not been handed out already; free some ports and start again")
    }
}
