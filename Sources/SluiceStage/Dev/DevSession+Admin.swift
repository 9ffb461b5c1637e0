import Foundation
import SluiceCore
import SluiceKafka

/// `sluice dev`'s admin API: `sluice-admin` as one more child, with a dev admin key.
extension DevSession {
    /// Where the dev admin API answers and the key it takes.
    public struct AdminAccess: Sendable {
        public var url: String
        public var key: String
    }

    /// Writes a dev admin key to the keys topic and starts `sluice-admin` on the admin port
    /// (``Options/adminPort``, or 8089 or the first free port after it) with its store in the
    /// state directory, fresh (the broker's memory storage starts empty every session, so an
    /// old store's positions would point past its ends). Returns once the port accepts
    /// connections.
    func startAdmin(runtime: StageRuntime, environment: [String: String], supervisor: DevSupervisor) async throws -> AdminAccess {
        let port = try chooseAdminPort()
        let (record, secret) = APIKey.generate(tenant: nil, name: "sluice dev")
        let producer = try runtime.producer()
        _ = try await producer.send(try KafkaProducerRecord(topic: runtime.settings.topic("api-keys"), key: record.id, wire: record))
        try await producer.close()
        let store = (options.stateDirectory as NSString).appendingPathComponent("admin.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        try await supervisor.start(DevChild(
            name: "admin", executable: executable("sluice-admin"), arguments: [],
            environment: environment.merging([
                "SLUICE_ADMIN_PORT": String(port), "SLUICE_ADMIN_STORE": store, "SLUICE_METRICS_PORT": "0",
                // The dashboard's session cookie without Secure: dev serves plain http on loopback.
                "SLUICE_DASHBOARD_INSECURE_COOKIES": "1", "SLUICE_ADMIN_PUBLIC_URL": "http://127.0.0.1:\(port)",
            ]) { $1 }))
        let deadline = ContinuousClock.now + .seconds(90)
        while !LoopbackPort.accepts(port) {
            guard ContinuousClock.now < deadline else { throw CLIError("sluice-admin did not listen on \(port) within 90 s; its lines are above") }
            try await Task.sleep(for: .milliseconds(100))
        }
        return AdminAccess(url: "http://127.0.0.1:\(port)", key: secret)
    }

    func chooseAdminPort() throws -> Int {
        try LoopbackPort.choose(options.adminPort, preferred: 8089, flag: "--admin-port", what: "admin API", say: say)
    }
}
