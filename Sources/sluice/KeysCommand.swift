import ArgumentParser
import Foundation
import SluiceCore
import SluiceKafka
import SluiceStage

/// `sluice keys`: API keys of the admin API, on the compacted topic `sluice.api-keys`
/// (only a SHA-256 of each key is stored; the key is printed once).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys of the admin API (records of sluice.api-keys).",
        subcommands: [Create.self, List.self, Revoke.self])

    /// Settings, a producer and the topic.
    struct Context {
        let runtime: StageRuntime
        let topic: String

        init(_ options: ClientOptions) async throws {
            let settings = try await options.resolve()
            runtime = StageRuntime(name: "sluice-keys", settings: settings)
            topic = settings.topic("api-keys")
            do { try await KafkaAdmin(config: runtime.kafka, logger: runtime.logger).requireTopics([topic]) } catch {
                throw CLIError("\(error); run `sluice topology apply` first")
            }
        }

        func load() async throws -> APIKeyRegistry {
            var registry = APIKeyRegistry()
            try await runtime.reader().readToEnd(topic: topic) { record in
                guard let key = record.key.flatMap({ String(validating: $0, as: UTF8.self) }) else { return }
                try? registry.apply(key: key, value: record.value)
            }
            return registry
        }

        func put(_ key: APIKey) async throws {
            let producer = try runtime.producer()
            try await producer.send(try KafkaProducerRecord(topic: topic, key: key.id, wire: key))
            try await producer.close()
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; prints it once (only its hash is stored).",
            discussion: """
                A tenant key sees and changes only its tenant's objects; an admin key sees every tenant. Send it as \
                Authorization: Bearer sk_… to sluice-admin. Store the key now: it cannot be shown again.

                Examples:
                  sluice keys create --tenant acme --name 'acme backend'
                  sluice keys create --admin --json
                """)
        @OptionGroup var stage: ClientOptions
        @Option(help: "The tenant the key is for.") var tenant: String?
        @Flag(help: "A key for every tenant.") var admin = false
        @Option(help: "What the key is for (shown by list).") var name: String?
        @Flag(help: "Print {\"id\": …, \"key\": …}.") var json = false

        func validate() throws {
            guard (tenant != nil) != admin else { throw ValidationError("give either --tenant T or --admin") }
            if let tenant {
                do { try WireCheck(kind: "api_key").id(tenant, "tenant") } catch { throw ValidationError("--tenant: \(error.problem)") }
            }
        }

        func run() async throws {
            let context = try await Context(stage)
            let (record, secret) = APIKey.generate(tenant: tenant, name: name)
            try await context.put(record)
            if json {
                var object: [String: Any] = ["id": record.id, "key": secret, "admin": admin]
                if let tenant { object["tenant"] = tenant }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(record.id)  \(tenant.map { "tenant \($0)" } ?? "admin")")
                print("key: \(secret)  (shown once: store it now; send it as Authorization: Bearer …)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (ids and scopes, never the keys).", discussion: "Example: sluice keys list")
        @OptionGroup var stage: ClientOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let keys = try await Context(stage).load().all
            if json {
                let objects: [[String: Any]] = keys.map { key in
                    var object: [String: Any] = ["id": key.id, "admin": key.admin, "created_at": key.createdAt.formatted(.iso8601)]
                    if let tenant = key.tenant { object["tenant"] = tenant }
                    if let name = key.name { object["name"] = name }
                    if let revoked = key.revokedAt { object["revoked_at"] = revoked.formatted(.iso8601) }
                    return object
                }
                let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print(Table.render(
                header: ["ID", "STATE", "SCOPE", "CREATED", "NAME"],
                rows: keys.map { key in
                    [key.id, key.revokedAt == nil ? "live" : "revoked", key.tenant.map { "tenant \($0)" } ?? "admin", key.createdAt.formatted(.iso8601), key.name ?? ""]
                }))
            print("\(keys.count) key\(keys.count == 1 ? "" : "s")")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key; every sluice-admin refuses it within about a second.", discussion: "Example: sluice keys revoke key_…")
        @OptionGroup var stage: ClientOptions
        @Argument(help: "The key id (from `sluice keys list`).") var id: String

        func run() async throws {
            let context = try await Context(stage)
            guard var key = try await context.load()[id] else { throw CLIError("no API key \(id); `sluice keys list` shows them") }
            guard key.revokedAt == nil else {
                print("\(id) was already revoked")
                return
            }
            key.revokedAt = Date()
            try await context.put(key)
            print("revoked \(id)")
        }
    }
}
