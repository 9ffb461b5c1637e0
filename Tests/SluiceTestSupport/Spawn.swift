import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts `arguments[0]` with an empty signal mask and default signal handlers, its
/// output appended to `logPath`, and returns its pid.
///
/// Foundation's `Process` passes on the spawning thread's signal mask, and test runner
/// threads block nearly every signal: a child started that way ignores SIGTERM.
public func spawnWithCleanSignals(_ arguments: [String], logPath: String) throws -> pid_t {
    try spawnWithCleanSignals(arguments) { actions in
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
}

/// Starts `arguments[0]` with an empty signal mask and default signal handlers, its
/// standard streams as `streams` sets them up, and returns its pid.
public func spawnWithCleanSignals(_ arguments: [String], streams: (inout posix_spawn_file_actions_t) -> Void) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    streams(&actions)

    var pid: pid_t = 0
    let argv = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
    guard result == 0 else { throw TestBrokerError("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
    return pid
}

/// Starts `arguments` under a bash watchdog that stops it (SIGTERM) when this process is
/// gone, even by SIGKILL, or when the watchdog is sent SIGTERM. Returns the watchdog's pid.
public func spawnWatched(_ arguments: [String], logPath: String) throws -> pid_t {
    let script = """
        "$@" >>"$LOG" 2>&1 &
        child=$!
        trap 'kill $child 2>/dev/null; wait $child; exit 0' TERM INT
        while kill -0 \(getpid()) 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done
        kill $child 2>/dev/null; wait $child
        """
    return try spawnWithCleanSignals(["/usr/bin/env", "LOG=\(logPath)", "/bin/bash", "-c", script, "watchdog"] + arguments, logPath: logPath)
}

/// True while process `pid` (a child of this process) has not exited; reaps it once it has.
public func isRunning(_ pid: pid_t) -> Bool {
    var status: Int32 = 0
    return waitpid(pid, &status, WNOHANG) == 0
}

/// The result of running a command to completion.
public struct CommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var elapsed: Duration
}

/// Runs `arguments` (with extra `environment`), waits at most `timeout`, and returns its
/// exit status and combined output. A command still running at the timeout is killed
/// and reported with status -1.
public func runCommand(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) throws -> CommandResult {
    let logPath = NSTemporaryDirectory() + "sluice-cmd-\(UUID().uuidString).log"
    defer { try? FileManager.default.removeItem(atPath: logPath) }
    let started = ContinuousClock.now
    let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pid = try spawnWithCleanSignals(["/usr/bin/env"] + env.map { "\($0.key)=\($0.value)" } + arguments, logPath: logPath)
    var status: Int32 = 0
    while true {
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid { break }
        if ContinuousClock.now - started > timeout {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            return CommandResult(status: -1, output: output, elapsed: ContinuousClock.now - started)
        }
        usleep(10_000)
    }
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
    let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return CommandResult(status: exit, output: output, elapsed: ContinuousClock.now - started)
}

/// Path of a built executable of this package (the debug build the tests run from).
public func executablePath(_ name: String) -> String {
    TestBroker.repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
}

/// Sends `signal` to child `pid` and waits (at most `timeout`) for it to exit. Returns its
/// exit code, or nil when it did not exit normally in time (then it is killed).
public func stop(_ pid: pid_t, with signal: Int32 = SIGTERM, timeout: Duration = .seconds(60)) -> Int32? {
    kill(pid, signal)
    var status: Int32 = 0
    let deadline = ContinuousClock.now + timeout
    while waitpid(pid, &status, WNOHANG) == 0 {
        guard ContinuousClock.now < deadline else {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            return nil
        }
        usleep(20_000)
    }
    return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
}

/// CPU time (user + system) process `pid` has used so far, from `/proc/PID/stat`.
public func cpuTime(of pid: pid_t) throws -> Duration {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // Fields after the command name (which may hold spaces) start after its ")".
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    let ticks = (Int64(fields[11]) ?? 0) + (Int64(fields[12]) ?? 0)
    return .milliseconds(ticks * 1000 / Int64(sysconf(Int32(_SC_CLK_TCK))))
}

/// Waits (at most `timeout`) until the file at `path` contains `text`.
public func waitForText(_ text: String, in path: String, timeout: Duration = .seconds(40)) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let content = try? String(contentsOfFile: path, encoding: .utf8), content.contains(text) { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}
