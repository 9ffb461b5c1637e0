import ArgumentParser
import SluiceAdmin
import SluiceCore
import SluiceDashboard
import SluiceStage

/// `sluice-admin`: the admin HTTP API (keys, ingest, endpoints, delivery log).
@main
struct SluiceAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-admin",
        abstract: "Serve the admin HTTP API: publish events, manage endpoints, read the delivery log.",
        discussion: """
            The dashboard (operators, admin-key login) and the tenant portal (signed links from `sluice portal-link`) \
            are under /ui; its session cookie is Secure unless SLUICE_DASHBOARD_INSECURE_COOKIES=1 (plain-http \
            development); SLUICE_ADMIN_PUBLIC_URL is the external URL portal links start with.

            Every /v1 route takes Authorization: Bearer sk_… (make keys with `sluice keys create`); the OpenAPI \
            document is at /v1/openapi.yaml. Its query store (SQLite) is materialised from sluice.endpoints, \
            sluice.attempts, sluice.dlq and sluice.ops; delete the file to rebuild it from the topics. /readyz answers 200 once it has caught up.

            Example: sluice-admin --port 8089 --store /var/lib/sluice/admin.sqlite
            """)

    @OptionGroup var stage: StageOptions
    @Option(help: "HTTP port (env SLUICE_ADMIN_PORT; default 8089; 0: any free port).") var port: Int?
    @Option(help: "Address to listen on (env SLUICE_ADMIN_HOST; default 127.0.0.1).") var host: String?
    @Option(help: "The query store's SQLite file (env SLUICE_ADMIN_STORE; default .sluice-admin/store.sqlite).") var store: String?
    @Option(help: "How long the store keeps attempts, dead letters and ops events, e.g. 30d (env SLUICE_ADMIN_RETENTION; default 30d, at least 24h).")
    var retention: String?

    func validate() throws {
        do { _ = try AdminOptions.resolve(port: port, host: host, store: store, retention: retention) } catch { throw ValidationError(error.description) }
    }

    func run() async throws {
        let (settings, delivery) = try await stage.resolveAll()
        let runtime = StageRuntime(name: "sluice-admin", settings: settings)
        try await AdminServer.run(
            runtime: runtime, delivery: delivery, options: try AdminOptions.resolve(port: port, host: host, store: store, retention: retention),
            extensions: [Dashboard(options: .fromEnvironment())])
        ProcessExit.afterGracefulShutdown()
    }
}
