import Foundation
import Logging
import SluiceCore
import SluiceKafka

#if canImport(Glibc)
import Glibc
#endif

/// `sluice dev`: the whole pipeline on one machine. Starts Tansu (memory storage), applies
/// the topology, starts a demo receiver, one copy of every stage and the admin API (with a
/// dev admin key) as child processes, registers a demo endpoint, publishes a demo event,
/// and runs until Ctrl-C.
///
/// Invariant: when ``run()`` returns, every child it started has exited (see
/// ``DevSupervisor``); a child that dies on its own stops the session (exit status 1).
///
/// ```swift
/// let session = DevSession(options: .init(binDirectory: "/repo/.build/release", stateDirectory: ".sluice-dev"))
/// exit(try await session.run())
/// ```
public struct DevSession: Sendable {
    /// What `sluice dev` was asked for.
    public struct Options: Sendable {
        /// The broker's port; nil picks 9092 or the next free one.
        public var port: Int?
        /// The admin API's port; nil picks 8089 or the next free one.
        public var adminPort: Int?
        /// Where `sluice-fanout` and the other executables are.
        public var binDirectory: String
        /// Logs, the dev master key.
        public var stateDirectory: String
        /// The Tansu binary; nil looks in `.deps/bin` of the checkout and on `PATH`.
        public var tansu: String?
        /// The retry tiers' delays (`SLUICE_RETRY_TIERS` of every stage).
        public var tiers: String = "1m=5s,10m=20s,1h=60s"
        /// Register the demo endpoint and publish the demo event.
        public var demo = true

        public init(port: Int? = nil, binDirectory: String, stateDirectory: String, tansu: String? = nil) {
            self.port = port
            self.binDirectory = binDirectory
            self.stateDirectory = stateDirectory
            self.tansu = tansu
        }
    }

    public let options: Options
    let say: @Sendable (String) -> Void

    public init(options: Options, say: @escaping @Sendable (String) -> Void = DevSession.printLine) {
        self.options = options
        self.say = say
    }

    /// Writes `line` to standard output at once (unbuffered: lines of several processes
    /// interleave whole). A failed write (the pipe to `tee` is gone) is dropped: `sluice
    /// dev` ignores SIGPIPE so that it can still stop its children.
    public static func printLine(_ line: String) { try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8)) }

    /// The stages, in start order (they stop in reverse: fanout first, dispatch last).
    static let stages: [(name: String, executable: String, arguments: [String])] = [
        ("dispatch", "sluice-dispatch", []),
        ("retry-1m", "sluice-retry", ["--tier", "1m"]),
        ("retry-10m", "sluice-retry", ["--tier", "10m"]),
        ("retry-1h", "sluice-retry", ["--tier", "1h"]),
        ("dlq", "sluice-dlq", ["watch"]),
        ("fanout", "sluice-fanout", []),
    ]

    /// Runs until SIGINT or SIGTERM (exit 0) or until a child dies (exit 1).
    public func run() async throws -> Int32 {
        // `make dev 2>&1 | tee log`, then Ctrl-C: tee is gone before we have stopped the
        // children. A write to its pipe must fail, not end this process.
        signal(SIGPIPE, SIG_IGN)
        try checkExecutables()
        let tansu = try locateTansu()
        let port = try choosePort()
        try FileManager.default.createDirectory(atPath: options.stateDirectory, withIntermediateDirectories: true)
        let masterKey = try loadMasterKey()
        let signals = DevSignals()
        let supervisor = DevSupervisor(output: say)
        do {
            let brokers = "127.0.0.1:\(port)"
            try await startBroker(tansu, port: port, supervisor: supervisor)
            let environment = stageEnvironment(brokers: brokers, masterKey: masterKey)
            let runtime = StageRuntime(name: "sluice-dev", settings: StageSettings(brokers: brokers, logLevel: "warning"))
            // One admin and one producer serve the topology, the demo endpoint and the demo
            // event: each Kafka client costs start-up time.
            let admin = try KafkaAdmin(config: runtime.kafka, logger: runtime.logger)
            try await applyTopology(runtime, admin: admin)
            var ports = LoopbackPortPool(reserved: [port] + (options.adminPort.map { [$0] } ?? []))
            let receiverPort = try ports.next()
            var demo: (Endpoint, Secret)?
            let producer = options.demo ? try runtime.producer() : nil
            if let producer {
                let reader = KafkaTopicReader(client: runtime.kafka, producer: producer, admin: admin, logger: runtime.logger)
                let store = EndpointStore(topic: runtime.settings.topic("endpoints"), producer: producer, reader: reader)
                demo = try await createDemoEndpoint(store, masterKey: masterKey, receiverPort: receiverPort)
            }
            if let (_, secret) = demo {
                try await supervisor.start(DevChild(
                    name: "receiver", executable: executable("sluice"), arguments: ["receive", "--port", String(receiverPort)],
                    environment: ["SLUICE_RECEIVER_SECRET": secret.encoded]))
            }
            var metrics: [String] = []
            for stage in Self.stages {
                // One metrics port per child (a shared one would make the second bind fail).
                let port = try ports.next()
                metrics.append("\(stage.name) http://127.0.0.1:\(port)/metrics")
                try await supervisor.start(DevChild(
                    name: stage.name, executable: executable(stage.executable), arguments: stage.arguments,
                    environment: environment.merging(["SLUICE_METRICS_PORT": String(port)]) { $1 }))
            }
            say("dev: metrics: " + metrics.joined(separator: ", "))
            let adminAccess = try await startAdmin(runtime: runtime, environment: environment, supervisor: supervisor)
            if let producer, let (endpoint, _) = demo {
                try await publishDemoEvent(producer, topic: runtime.settings.topic("events"), tenant: endpoint.tenant)
                try await producer.close()
            }
            printNextSteps(brokers: brokers, masterKey: masterKey, admin: adminAccess)
        } catch {
            await supervisor.stopAll()
            throw error
        }
        let activity = Task { [say] in
            await DevActivity(runtime: StageRuntime(name: "sluice-dev", settings: StageSettings(brokers: "127.0.0.1:\(port)", logLevel: "error")), say: say).run()
        }
        let status = await waitForEnd(signals: signals, supervisor: supervisor)
        activity.cancel()
        await supervisor.stopAll()
        say(status == 0 ? "dev: stopped; no process left running" : "dev: stopped after a failure; no process left running")
        return status
    }

    // MARK: Steps

    func checkExecutables() throws {
        let missing = (["sluice", "sluice-admin"] + Self.stages.map(\.executable)).filter { !FileManager.default.isExecutableFile(atPath: executable($0)) }
        guard missing.isEmpty else {
            throw CLIError("missing in \(options.binDirectory): \(Set(missing).sorted().joined(separator: ", ")); build them with `make build` (or `swift build -c release`)")
        }
    }

    func executable(_ name: String) -> String { (options.binDirectory as NSString).appendingPathComponent(name) }

    func locateTansu() throws -> String {
        if let tansu = options.tansu {
            guard FileManager.default.isExecutableFile(atPath: tansu) else { throw CLIError("--tansu \(tansu) is not an executable file") }
            return tansu
        }
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [checkout.appendingPathComponent(".deps/bin/tansu").path, executable("tansu")]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/tansu" }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw CLIError("the Tansu broker is not installed; run `make setup` (it puts it in .deps/bin), or pass --tansu PATH")
        }
        return found
    }

    func choosePort() throws -> Int {
        try LoopbackPort.choose(options.port, preferred: 9092, flag: "--port", what: "broker", say: say)
    }

    func loadMasterKey() throws -> String {
        let path = (options.stateDirectory as NSString).appendingPathComponent("master.key")
        if let key = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
            // Readable by its owner only, also when an older dev wrote it.
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return key
        }
        let key = SecretBox.Key.generateBase64()
        // Created 0600 before the key goes in: it decrypts every endpoint's secret.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot create \(path): check that \(options.stateDirectory) is writable")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(key.utf8))
        try handle.close()
        return key
    }

    func startBroker(_ tansu: String, port: Int, supervisor: DevSupervisor) async throws {
        let url = "tcp://127.0.0.1:\(port)"
        let log = (options.stateDirectory as NSString).appendingPathComponent("tansu.log")
        // Through `sluice supervised-exec`: Tansu cannot bind itself to the supervisor, so
        // the parent-death signal is set for it before it starts.
        try await supervisor.start(DevChild(
            name: "tansu", executable: executable("sluice"),
            arguments: ["supervised-exec", "--", tansu, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            logFile: log, buildHint: "run `make setup`"))
        let deadline = ContinuousClock.now + .seconds(20)
        while !LoopbackPort.accepts(port) {
            guard ContinuousClock.now < deadline else { throw CLIError("Tansu did not listen on \(port) within 20 s; see \(log)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        say("dev: Tansu listens on 127.0.0.1:\(port) (log: \(log))")
    }

    func applyTopology(_ runtime: StageRuntime, admin: KafkaAdmin) async throws {
        let topology = try runtime.loadTopology()
        let report = try await TopologyApplier(admin: admin).apply(topology.resolvedTopics(prefix: runtime.settings.topicPrefix), dryRun: false)
        say("dev: topology: " + report.plan.summary(applied: true))
    }

    func stageEnvironment(brokers: String, masterKey: String) -> [String: String] {
        [
            "SLUICE_BROKERS": brokers, "SLUICE_MASTER_KEY": masterKey, "SLUICE_ALLOW_PRIVATE": "1", "SLUICE_ALLOW_HTTP": "1",
            "SLUICE_KAFKA_PROFILE": "tansu", "SLUICE_RETRY_TIERS": options.tiers,
            "SLUICE_INSTANCE_ID": "dev",
        ]
    }

    func createDemoEndpoint(_ store: EndpointStore, masterKey: String, receiverPort: Int) async throws -> (Endpoint, Secret) {
        let secret = Secret.generate()
        let box = try SecretBox(masterKeyBase64: masterKey)
        let id = Endpoint.newID()
        let endpoint = Endpoint(
            id: id, tenant: "demo", url: "http://127.0.0.1:\(receiverPort)/webhooks", filter: try EventTypeFilter(parsing: "*"),
            sealedSecret: box.seal(secret, endpointID: id))
        let stored = try await store.put(endpoint)
        say("dev: demo endpoint \(stored.id) (tenant demo, every event type) → \(stored.url)")
        return (stored, secret)
    }

    func publishDemoEvent(_ producer: KafkaProducer, topic: String, tenant: String) async throws {
        let event = Event.structured(
            id: "evt_" + RandomID.make(length: 20), source: "/sluice/dev", type: "demo.hello", tenant: tenant,
            data: .object(["hello": .string("world")]), time: Date())
        try await producer.send(KafkaProducerRecord(topic: topic, key: Array(tenant.utf8), value: event.body))
        say("dev: published \(event.id) (demo.hello); the receiver prints `verified webhook \(event.id)` when it arrives")
    }

    func printNextSteps(brokers: String, masterKey: String, admin: AdminAccess) {
        let sluice = executable("sluice")
        let portal = (try? PortalLink.signingKey(masterKeyBase64: masterKey)).flatMap { key in
            (try? PortalLink(tenant: "demo", ttl: .seconds(86_400), readOnly: false)).map { $0.url(base: admin.url, key: key) }
        } ?? "(sluice portal-link --tenant demo)"
        say("""
            dev: admin API \(admin.url) (its OpenAPI document: \(admin.url)/v1/openapi.yaml); dev admin key \(admin.key)
            dev: dashboard \(admin.url)/ui/ (log in with the dev admin key); tenant demo's portal, 24 h: \(portal)
            dev: every stage is started. In another terminal:
                   export SLUICE_BROKERS=\(brokers) SLUICE_MASTER_KEY=\(masterKey) SLUICE_ALLOW_PRIVATE=1 SLUICE_ALLOW_HTTP=1
                   \(sluice) events publish --tenant demo --type order.created --data '{"order":1}' --count 10
                   \(sluice) endpoints list
                   \(sluice) dlq list
                   curl -H 'Authorization: Bearer \(admin.key)' \(admin.url)/v1/attempts
            dev: failed attempts, retries, circuits, disables and dead letters are printed below as they happen, marked ✗.
            dev: Ctrl-C stops every stage, the receiver and the broker.
            """)
    }

    /// Waits for Ctrl-C / SIGTERM (0) or a child's unrequested exit (1).
    func waitForEnd(signals: DevSignals, supervisor: DevSupervisor) async -> Int32 {
        await withTaskGroup(of: Int32.self) { group in
            group.addTask {
                if let signal = await signals.next() { say("\ndev: \(signal), stopping") }
                return 0
            }
            group.addTask {
                for await exit in supervisor.exits where !exit.requested {
                    say("dev: \(exit.name) stopped unexpectedly (\(exit.status)); its last lines are above. Stopping the rest.")
                    return 1
                }
                return 0
            }
            let status = await group.next() ?? 0
            group.cancelAll()
            return status
        }
    }
}
