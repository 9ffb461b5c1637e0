import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Create, list and change webhook endpoints (records of sluice.endpoints).",
        subcommands: [Create.self, List.self, Get.self, Disable.self, Enable.self, Delete.self])

    /// What every endpoints command needs: settings, a producer and the store.
    struct Context {
        let runtime: StageRuntime
        let delivery: DeliverySettings
        let store: EndpointStore

        init(_ options: StageOptions) async throws {
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
        @OptionGroup var stage: StageOptions
        @Option(help: "The tenant the endpoint belongs to.") var tenant: String
        @Option(help: "Where to POST (https://…).") var url: String
        @Option(help: "Event types it takes: exact, prefix.* or * (comma-separated).") var types = "*"
        @Option(help: "Use this whsec_… secret instead of generating one.") var secret: String?
        @Option(help: "Request timeout, e.g. 10s (default 15s).") var timeout: String?
        @Option(help: "At most this many requests per second.") var rateLimit: Double?
        @Option(help: "Waits before attempts 1…n, e.g. 0s,1m,10m (default: the global schedule).") var schedule: String?
        @Option(name: .customLong("header"), help: "An extra header, NAME:VALUE (repeatable).") var headers: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let context = try await Context(stage)
            do { try context.delivery.destinations.check(url) } catch { throw CLIError(error.description) }
            let filter: EventTypeFilter
            do { filter = try EventTypeFilter(parsing: types) } catch { throw ValidationError(error.description) }
            if let schedule { do { _ = try RetrySchedule(parsing: schedule) } catch { throw ValidationError(error.description) } }
            let chosen: Secret
            if let secret {
                do { chosen = try Secret(encoded: secret) } catch { throw ValidationError(error.description) }
            } else {
                chosen = Secret.generate()
            }
            let box: SecretBox
            do { box = try context.delivery.secretBox() } catch { throw CLIError(error.description) }
            let id = Endpoint.newID()
            var endpoint = Endpoint(id: id, tenant: tenant, url: url, filter: filter, sealedSecret: box.seal(chosen, endpointID: id))
            if let timeout {
                guard let parsed = DurationText.parse(timeout), parsed > .zero else { throw ValidationError("--timeout takes a duration like 10s") }
                endpoint.timeoutMs = Int(parsed.timeInterval * 1000)
            }
            endpoint.rateLimit = rateLimit
            endpoint.schedule = schedule
            for header in headers {
                let parts = header.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--header takes NAME:VALUE, got '\(header)'") }
                endpoint.headers[parts[0]] = parts[1]
            }
            let stored = try await context.store.put(endpoint)
            EndpointOutput.print([stored], json: json, secret: chosen)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints.", discussion: "Example: sluice endpoints list --tenant acme")
        @OptionGroup var stage: StageOptions
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
        @OptionGroup var stage: StageOptions
        @Argument(help: "The endpoint id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            EndpointOutput.print([try await Context(stage).existing(id)], json: json, secret: nil)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop fanning events out to an endpoint.", discussion: "Example: sluice endpoints disable ep_…")
        @OptionGroup var stage: StageOptions
        @Argument(help: "The endpoint id.") var id: String
        @Option(help: "Why (kept on the endpoint).") var reason = "disabled by an operator"

        func run() async throws {
            try await Context(stage).setEnabled(id, false, reason: reason)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume an endpoint.", discussion: "Example: sluice endpoints enable ep_…")
        @OptionGroup var stage: StageOptions
        @Argument(help: "The endpoint id.") var id: String

        func run() async throws {
            try await Context(stage).setEnabled(id, true)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint (a tombstone on sluice.endpoints).", discussion: "Example: sluice endpoints delete ep_…")
        @OptionGroup var stage: StageOptions
        @Argument(help: "The endpoint id.") var id: String

        func run() async throws {
            let context = try await Context(stage)
            _ = try await context.existing(id)
            try await context.store.delete(id: id)
            print("deleted \(id)")
        }
    }
}

/// How endpoints are shown: a table, or JSON (never the sealed secret).
enum EndpointOutput {
    static func view(_ e: Endpoint) -> [String: Any] {
        var v: [String: Any] = [
            "id": e.id, "tenant": e.tenant, "url": e.url, "enabled": e.enabled, "types": e.filter.patterns,
            "revision": e.revision, "created_at": e.createdAt.formatted(.iso8601), "headers": e.headers,
        ]
        if let t = e.timeoutMs { v["timeout_ms"] = t }
        if let r = e.rateLimit { v["rate_limit"] = r }
        if let s = e.schedule { v["schedule"] = s }
        if let d = e.disabledReason { v["disabled_reason"] = d }
        return v
    }

    static func print(_ endpoints: [Endpoint], json: Bool, secret: Secret?) {
        if json {
            var object: Any = endpoints.count == 1 && secret != nil ? view(endpoints[0]) : endpoints.map(view)
            if let secret, var single = object as? [String: Any] {
                single["secret"] = secret.encoded
                object = single
            }
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            Swift.print(String(decoding: data, as: UTF8.self))
            return
        }
        for e in endpoints {
            Swift.print("\(e.id)  \(e.tenant)  \(e.enabled ? "enabled " : "disabled")  \(e.filter)  \(e.url)")
        }
        if let secret {
            Swift.print("secret: \(secret.encoded)  (shown once: store it now; receivers verify signatures with it)")
        } else {
            Swift.print("\(endpoints.count) endpoint\(endpoints.count == 1 ? "" : "s")")
        }
    }
}
