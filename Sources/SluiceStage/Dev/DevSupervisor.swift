import Foundation
import SluiceCore
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The child processes of `sluice dev`: started one by one, their output prefixed with
/// their name (or written to a file), stopped in the reverse order of their start.
///
/// Each child runs in its own process group, so the terminal's Ctrl-C reaches only the
/// supervisor, which then stops the children itself, in order: SIGTERM to the child's
/// group, up to `stopTimeout` to exit, then SIGKILL. A child that exits on its own is
/// reported on ``exits`` and the caller decides (`sluice dev` stops the rest).
///
/// Every child gets this process's pid in `SLUICE_SUPERVISOR_PID`: Sluice's executables
/// bind their life to it (``SupervisedChild``), and a foreign program is run through
/// `sluice supervised-exec`, so no child outlives the supervisor even when it dies
/// without stopping them (SIGKILL, a crash).
///
/// Invariant: after ``stopAll()`` returns, every child started has exited and been
/// reaped.
///
/// ```swift
/// let supervisor = DevSupervisor(output: { print($0) })
/// try await supervisor.start(DevChild(name: "fanout", executable: bin + "/sluice-fanout"))
/// for await exit in supervisor.exits { print("\(exit.name) exited") }
/// ```
public final class DevSupervisor: Sendable {
    /// A child that exited, and how.
    public struct Exit: Sendable {
        public var name: String
        public var status: String
        /// Whether it exited because ``stopAll()`` asked it to.
        public var requested: Bool
    }

    private struct Running: Sendable {
        var name: String
        var task: Task<Void, Never>
    }

    private let children = Locked<[Running]>([])
    private let stopping = Locked(false)
    private let output: @Sendable (String) -> Void
    private let exitStream: AsyncStream<Exit>.Continuation
    /// Children exiting, in the order they exit.
    public let exits: AsyncStream<Exit>
    public let stopTimeout: Duration

    public init(stopTimeout: Duration = .seconds(10), output: @escaping @Sendable (String) -> Void) {
        self.stopTimeout = stopTimeout
        self.output = output
        (exits, exitStream) = AsyncStream.makeStream(of: Exit.self)
    }

    /// Starts `child` and returns once it is spawned (or throws why it could not be).
    public func start(_ child: DevChild) async throws {
        guard FileManager.default.isExecutableFile(atPath: child.executable) else {
            throw CLIError("\(child.executable) is missing or not executable; \(child.buildHint)")
        }
        let spawned = AsyncStream.makeStream(of: Result<Int32, any Error>.self)
        var options = PlatformOptions()
        options.processGroupID = 0  // its own group: the terminal's Ctrl-C is ours to pass on, in order
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: stopTimeout)]
        var environment = child.environment
        environment[SupervisedChild.environmentKey] = String(getpid())
        let configuration = Configuration(
            executable: .path(FilePath(child.executable)), arguments: Arguments(child.arguments),
            environment: .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), Optional($0.value)) })),
            platformOptions: options)
        let log = child.logFile.flatMap { path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }
        let name = child.name
        let task = Task { [self] in
            var status = "?"
            do {
                let result = try await run(configuration, input: .none, output: .sequence, error: .combinedWithOutput) { execution in
                    spawned.continuation.yield(.success(execution.processIdentifier.value))
                    for try await line in execution.standardOutput.strings() {
                        if let log { log.write(Data((line + "\n").utf8)) } else { output("[\(name)] \(line)") }
                    }
                }
                status = Self.describe(result.terminationStatus)
            } catch {
                spawned.continuation.yield(.failure(error))
                status = "failed: \(error)"
            }
            try? log?.close()
            exitStream.yield(Exit(name: name, status: status, requested: stopping.withLock { $0 }))
        }
        for await outcome in spawned.stream {
            _ = try outcome.get()  // spawned, or why not
            break
        }
        children.withLock { $0.append(Running(name: name, task: task)) }
    }

    /// Stops every child, the last started first, and waits for each.
    public func stopAll() async {
        stopping.withLock { $0 = true }
        while let child = children.withLock({ $0.popLast() }) {
            output("dev: stopping \(child.name)")
            child.task.cancel()
            await child.task.value
        }
        exitStream.finish()
    }

    static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): code == 0 ? "exit 0" : "exit \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

/// One child process of ``DevSupervisor``.
public struct DevChild: Sendable {
    /// A short name for log prefixes (`fanout`, `retry-1m`).
    public var name: String
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    /// Output goes here instead of the terminal (for the noisy broker).
    public var logFile: String?
    /// What to say when the executable is missing.
    public var buildHint: String

    public init(
        name: String, executable: String, arguments: [String] = [], environment: [String: String] = [:], logFile: String? = nil,
        buildHint: String = "build it with `make build` (or `swift build -c release`)"
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logFile = logFile
        self.buildHint = buildHint
    }
}
