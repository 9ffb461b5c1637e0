import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One process as `/proc` shows it, named by its pid and start time (a pid can be reused).
public struct ProcessIdentity: Hashable, Sendable, CustomStringConvertible {
    public let pid: pid_t
    public let parent: pid_t
    /// Clock ticks after boot when it started (field 22 of `/proc/PID/stat`).
    public let startTime: UInt64
    public let command: String

    /// The process `pid`, if it exists.
    public init?(pid: pid_t) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start after its ")".
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let parent = pid_t(fields[1]), let start = UInt64(fields[19]) else { return nil }
        self.pid = pid
        self.parent = parent
        self.startTime = start
        let arguments = ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\0")
        self.command = arguments.isEmpty ? String(stat[stat.index(after: open)..<close]) : arguments.joined(separator: " ")
        state = fields[0].first ?? "?"
    }

    private let state: Character

    /// Whether it still runs: the same process (pid and start time) and not a zombie (a
    /// zombie has ended; it only waits for its new parent to reap it).
    public var isAlive: Bool {
        guard let now = ProcessIdentity(pid: pid), now.startTime == startTime else { return false }
        return now.state != "Z" && now.state != "X"
    }

    public var description: String { "\(pid) (\(command.prefix(80)))" }
}

/// Every process descending from `pid` now: its children, theirs, and so on.
public func descendants(of pid: pid_t) -> [ProcessIdentity] {
    let all = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }.compactMap(ProcessIdentity.init(pid:))
    var found: [ProcessIdentity] = []
    var parents: Set<pid_t> = [pid]
    while true {
        let next = all.filter { parents.contains($0.parent) && !found.contains($0) }
        if next.isEmpty { return found }
        found += next
        parents = Set(next.map(\.pid))
    }
}

/// Starts `arguments` (clean signals, as ``spawnWithCleanSignals(_:logPath:)``) with its
/// standard output and error into a new pipe; returns its pid and the pipe's read end,
/// which the caller closes. Both ends are close-on-exec here, so other processes started
/// meanwhile do not hold the pipe open.
public func spawnWithPipe(_ arguments: [String]) throws -> (pid: pid_t, output: Int32) {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { throw TestBrokerError("pipe: \(String(cString: strerror(errno)))") }
    // (Glibc's module has no pipe2: a process spawned in the instant between pipe and
    // fcntl could inherit an end.)
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    defer { close(ends[1]) }
    do {
        let pid = try spawnWithCleanSignals(arguments) { actions in
            posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
            posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        return (pid, ends[0])
    } catch {
        close(ends[0])
        throw error
    }
}

/// Reads `fd` (without blocking a thread) until what was read contains `text` or
/// `timeout` passed; returns whether it did and everything read.
public func readUntil(_ text: String, from fd: Int32, timeout: Duration) async -> (found: Bool, output: String) {
    var output = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&ready, 1, 0) > 0 {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }  // the writer closed its end
            output += buffer[0..<n]
            if String(decoding: output, as: UTF8.self).contains(text) { return (true, String(decoding: output, as: UTF8.self)) }
            continue
        }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return (false, String(decoding: output, as: UTF8.self))
}
