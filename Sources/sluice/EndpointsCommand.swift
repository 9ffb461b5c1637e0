import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Create, list and change webhook endpoints (records of sluice.endpoints).",
        subcommands: [Create.self, List.self, Get.self, Update.self, RotateSecret.self, Disable.self, Enable.self, Delete.self])

    /// What every endpoints command needs: settings, a producer and the store.
    struct Context {
        let runtime: StageRuntime
        let delivery: DeliverySettings
        let store: EndpointStore

        init(_ options: ClientOptions) async throws {
            let (settings, delivery) = try await options.resolveAll()
            runtime = StageRuntime(name: "sluice-endpoints", settings: settings)
            self.delivery = delivery
            let topic = settings.topic("endpoints")
            try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics([topic])
            store = EndpointStore(topic: topic, producer: try runtime.producer(), reader: try runtime.reader())
        }

        /// Enables or disables an endpoint as a new revision.
        func setEnabled(_ id: String, _ enabled: Bool, reason: String? = nil) async throws {
            var endpoint = try await existing(id)
            endpoint.enabled = enabled
            endpoint.disabledReason = enabled ? nil : reason
            endpoint.revision += 1
            try await store.put(endpoint)
            print("\(enabled ? "enabled" : "disabled") \(id)")
        }

        /// The box to seal new secrets with, refused when the topic's endpoints are sealed
        /// under another master key (unless `newKey`: the operator moves to a new key on purpose).
        func sealingBox(newKey: Bool) async throws -> SecretBox {
            let inUse = try await store.load().sealingKeyIDs
            do { return try SealingKeyGuard.box(delivery: delivery, keyIDsInUse: inUse, topic: store.topic, newKey: newKey) } catch {
                throw CLIError(error.description)
            }
        }

        /// Applies `change` to `endpoint`: a refused URL fails the command (exit 1), a bad
        /// value is a usage error naming the flag (exit 64).
        func apply(_ change: EndpointChange, to endpoint: inout Endpoint) throws {
            do { try change.apply(to: &endpoint, destinations: delivery.destinations) } catch {
                switch error {
                case .destination: throw CLIError(error.description)
                case .invalid(let field, let problem):
                    let flag = ["rate_limit": "rate-limit", "endpoint": "header", "types": "types"][field] ?? field
                    throw ValidationError(field == "endpoint" ? problem : "--\(flag) \(problem)")
                }
            }
        }

        func existing(_ id: String) async throws -> Endpoint {
            guard let endpoint = try await store.load()[id] else {
                throw CLIError("no endpoint \(id); `sluice endpoints list` shows them")
            }
            return endpoint
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an endpoint; prints it and, once, its signing secret.",
            discussion: """
                The URL is checked on its face: https only (unless SLUICE_ALLOW_HTTP=1) and no literal loopback, \
                private, link-local or metadata address (unless SLUICE_ALLOW_PRIVATE=1 or an allow-list); host names \
                are checked again at every delivery. The secret is stored encrypted under SLUICE_MASTER_KEY.

                Example: sluice endpoints create --tenant acme --url https://hooks.acme.test/in --types 'order.*,invoice.paid' --json
                """)
        @OptionGroup var stage: ClientOptions
        @Option(help: "The tenant the endpoint belongs to.") var tenant: String
        @Option(help: "Where to POST (https://…).") var url: String
        @Option(help: "Event types it takes: exact, prefix.* or * (comma-separated).") var types = "*"
        @Option(help: "Use this whsec_… secret instead of generating one.") var secret: String?
        @OptionGroup var settings: EndpointSettingsOptions
        @Flag(help: "Seal under SLUICE_MASTER_KEY although the other endpoints use another key (a deliberate re-key).") var newMasterKey = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let context = try await Context(stage)
            var change = try settings.change()
            change.url = url
            change.types = types.split(separator: ",").map(String.init)
            let chosen = try secret.map(EndpointSettingsOptions.secret(parsing:)) ?? Secret.generate()
            let box = try await context.sealingBox(newKey: newMasterKey)
            let id = Endpoint.newID()
            var endpoint = Endpoint(id: id, tenant: tenant, url: url, filter: .all, sealedSecret: box.seal(chosen, endpointID: id))
            try context.apply(change, to: &endpoint)
            let stored = try await context.store.put(endpoint)
            EndpointOutput.print([stored], json: json, secret: chosen)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an endpoint's URL, event types, timeout, rate limit, schedule or headers (a new revision).",
            discussion: """
                Only what is given changes. Running dispatchers pick the change up within about a second. The URL \
                is checked as by `create`. The secret does not change: use `rotate-secret`.

                Example: sluice endpoints update ep_… --url https://hooks.acme.test/v2 --types 'order.*' --remove-header X-Old
                """)
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "Where to POST (https://…).") var url: String?
        @Option(help: "Event types it takes: exact, prefix.* or * (comma-separated).") var types: String?
        @OptionGroup var settings: EndpointSettingsOptions
        @Option(name: .customLong("remove-header"), help: "Stop sending this header (repeatable).") var removedHeaders: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let context = try await Context(stage)
            var endpoint = try await context.existing(id)
            var change = try settings.change()
            change.url = url
            change.types = types.map { $0.split(separator: ",").map(String.init) }
            change.removedHeaders = removedHeaders
            try context.apply(change, to: &endpoint)
            endpoint.revision += 1
            endpoint.updatedAt = Date()
            EndpointOutput.print([try await context.store.put(endpoint)], json: json, secret: nil)
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Give an endpoint a new signing secret; prints it once. Both sign during the overlap.",
            discussion: """
                Until the overlap ends, every webhook carries two signatures (webhook-signature: v1,… v1,…), one per \
                secret, so the receiver can switch to the new secret at any time in between.

                Example: sluice endpoints rotate-secret ep_… --overlap 24h
                """)
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "How long the old secret goes on signing, e.g. 24h; 0s stops it at once.") var overlap = "24h"
        @Option(help: "Use this whsec_… secret instead of generating one.") var secret: String?
        @Flag(help: "Seal under SLUICE_MASTER_KEY although the other endpoints use another key (a deliberate re-key).") var newMasterKey = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard let parsed = DurationText.parse(overlap), parsed >= .zero else { throw ValidationError("--overlap takes a duration like 24h or 0s") }
        }

        func run() async throws {
            let context = try await Context(stage)
            var endpoint = try await context.existing(id)
            let chosen = try secret.map(EndpointSettingsOptions.secret(parsing:)) ?? Secret.generate()
            let box = try await context.sealingBox(newKey: newMasterKey)
            endpoint.rotateSecret(to: box.seal(chosen, endpointID: id), overlap: DurationText.parse(overlap) ?? .zero, now: Date())
            EndpointOutput.print([try await context.store.put(endpoint)], json: json, secret: chosen)
        }
    }

    /// The endpoint settings `create` and `update` share.
    struct EndpointSettingsOptions: ParsableArguments {
        @Option(help: "Request timeout, e.g. 10s (default 15s).") var timeout: String?
        @Option(name: .customLong("description"), help: "What the endpoint is for (shown in lists).") var note: String?
        @Option(help: "At most this many requests per second.") var rateLimit: Double?
        @Option(help: "At most this many requests in flight.") var concurrency: Int?
        @Option(help: "Waits before attempts 1…n, e.g. 0s,1m,10m (default: the global schedule).") var schedule: String?
        @Option(name: .customLong("header"), help: "An extra header, NAME:VALUE (repeatable).") var headers: [String] = []

        /// What was given, as a change; only the header syntax is checked here (the values
        /// are checked by ``EndpointChange``, as for the admin API).
        func change() throws -> EndpointChange {
            var change = EndpointChange()
            change.timeout = timeout
            change.note = note
            change.rateLimit = rateLimit
            change.concurrency = concurrency
            change.schedule = schedule
            for header in headers {
                let parts = header.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--header takes NAME:VALUE, got '\(header)'") }
                change.headers[parts[0]] = parts[1]
            }
            return change
        }

        static func secret(parsing text: String) throws -> Secret {
            do { return try Secret(encoded: text) } catch { throw ValidationError(error.description) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints.", discussion: "Example: sluice endpoints list --tenant acme")
        @OptionGroup var stage: ClientOptions
        @Option(help: "Only this tenant's endpoints.") var tenant: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let registry = try await Context(stage).store.load()
            let all = registry.all.filter { tenant == nil || $0.tenant == tenant }
            EndpointOutput.print(all, json: json, secret: nil)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one endpoint.", discussion: "Example: sluice endpoints get ep_…")
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            EndpointOutput.print([try await Context(stage).existing(id)], json: json, secret: nil)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop fanning events out to an endpoint.", discussion: "Example: sluice endpoints disable ep_…")
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "Why (kept on the endpoint).") var reason = "disabled by an operator"

        func run() async throws {
            try await Context(stage).setEnabled(id, false, reason: reason)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume an endpoint.", discussion: "Example: sluice endpoints enable ep_…")
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String

        func run() async throws {
            try await Context(stage).setEnabled(id, true)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint (a tombstone on sluice.endpoints).", discussion: "Example: sluice endpoints delete ep_…")
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The endpoint id.") var id: String

        func run() async throws {
            let context = try await Context(stage)
            _ = try await context.existing(id)
            try await context.store.delete(id: id)
            print("deleted \(id)")
        }
    }
}
