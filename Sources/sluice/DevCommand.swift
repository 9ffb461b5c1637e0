import ArgumentParser
import Foundation
import SluiceCore
import SluiceStage

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the whole pipeline on this machine: Tansu, every stage, the admin API, a demo receiver.",
        discussion: """
            Starts the Tansu broker (memory storage: nothing survives a restart) on --port or the first free port \
            from 9092, applies the topology, starts a demo receiver that verifies signatures, registers a demo \
            endpoint (tenant demo) and starts one copy of each stage: sluice-dispatch, sluice-retry for the 1m, 10m \
            and 1h tiers (shortened to --tiers), sluice-dlq watch and sluice-fanout, and sluice-admin on \
            --admin-port or the first free port from 8089 (store in the state directory, made afresh), printing its \
            URL and a dev admin key (sk_…). Then it publishes one demo event: the receiver prints \
            `verified webhook …` when it arrives. Each stage's log lines are prefixed with its name; the broker's \
            go to .sluice-dev/tansu.log.

            Ctrl-C (or SIGTERM) stops every child in order (fanout first, the broker last): SIGTERM, then SIGKILL \
            after 10 s; nothing is left running, even when the output goes through a pipe that is gone by then \
            (SIGPIPE is ignored). If sluice dev dies without stopping them (SIGKILL, a crash), each child gets \
            SIGTERM from the kernel and exits within 10 s. A child that stops on its own is reported and the rest \
            are stopped (not restarted): exit status 1. Destinations on loopback and plain http:// are allowed (dev mode).

            Exit status: 0 after Ctrl-C; 1 if a child failed, or something is missing or taken (the message \
            says what to do: build the executables, run `make setup` for Tansu, pick another --port); 64 on bad options.

            Example: sluice dev --port 19092 --tiers 1m=2s,10m=5s,1h=10s
            """)

    @Option(help: "The broker's port (default: 9092, or the first free port after it).") var port: Int?
    @Option(help: "The admin API's port (default: 8089, or the first free port after it).") var adminPort: Int?
    @Option(help: "Delays of the retry tiers, tier=duration (the real ones are 1m, 10m, 1h).") var tiers = "1m=5s,10m=20s,1h=60s"
    @Option(help: "Where logs and the dev master key go.") var stateDirectory = ".sluice-dev"
    @Option(help: "The Tansu binary (default: .deps/bin/tansu of the checkout, then PATH).") var tansu: String?
    @Option(help: "Where the stage executables are (default: beside this one).") var binDirectory: String?
    @Flag(help: "No demo endpoint, receiver or event.") var noDemo = false

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port takes 1…65535") }
        do { _ = try RetryTiers(parsing: tiers) } catch { throw ValidationError("--tiers: \(error)") }
    }

    func run() async throws {
        var options = DevSession.Options(port: port, binDirectory: binDirectory ?? ExecutableLocation.directory, stateDirectory: stateDirectory, tansu: tansu)
        options.tiers = tiers
        options.adminPort = adminPort
        options.demo = !noDemo
        let status = try await DevSession(options: options).run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `sluice supervised-exec -- PROGRAM ARGS…` (hidden): how `sluice dev` runs a program
/// that cannot bind itself to it (Tansu): sets the parent-death signal, then execs.
struct SupervisedExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervised-exec",
        abstract: "Run a program that must not outlive `sluice dev` (it runs Tansu this way).",
        discussion: """
            Needs SLUICE_SUPERVISOR_PID (set by `sluice dev` for its children): sets SIGTERM as this process's \
            parent-death signal, exits 1 if the supervisor is gone already, and replaces itself with PROGRAM.
            """,
        shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough, help: "The program's path and its arguments.") var command: [String] = []

    func run() throws {
        try SupervisedChild.exec(command.first == "--" ? Array(command.dropFirst()) : command)
    }
}

struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "A demo webhook receiver: verifies each webhook's signature and prints one line per webhook.",
        discussion: """
            Listens on --host:--port and answers POSTs to any path: 204 and a `verified webhook <id> …` line \
            when the Standard Webhooks signature checks out with the secret, 401 and a `REJECTED webhook …` line \
            when not. The secret comes from SLUICE_RECEIVER_SECRET (or --secret; the environment keeps it out of \
            `ps`). `sluice dev` runs one.

            Example: SLUICE_RECEIVER_SECRET=whsec_… sluice receive --port 8080
            """)

    @Option(help: "The port to listen on.") var port = 8080
    @Option(help: "The address to listen on (0.0.0.0 in a container).") var host = "127.0.0.1"
    @Option(help: "The endpoint's whsec_… secret (prefer SLUICE_RECEIVER_SECRET).") var secret: String?

    func run() async throws {
        SupervisedChild.bind()  // under `sluice dev`: never outlive it
        guard let encoded = secret ?? ProcessInfo.processInfo.environment["SLUICE_RECEIVER_SECRET"] else {
            throw ValidationError("no secret: set SLUICE_RECEIVER_SECRET (or pass --secret) to the endpoint's whsec_… secret")
        }
        let parsed: Secret
        do { parsed = try Secret(encoded: encoded) } catch { throw ValidationError("the secret is not a whsec_… secret: \(error)") }
        try await DemoReceiver(host: host, port: port, secrets: [parsed]).run()
    }
}
