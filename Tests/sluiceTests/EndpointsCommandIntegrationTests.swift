import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("sluice endpoints, events and verify, as an operator runs them (integration)")
struct EndpointsCommandIntegrationTests {
    let sluice = executablePath("sluice")

    @Test("create prints the endpoint and its secret once; list, get, disable, enable and delete change it")
    func lifecycle() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            var env = fixture.environment(instance: "cli")
            env["SLUICE_ALLOW_PRIVATE"] = "0"
            let created = try runCommand([sluice, "endpoints", "create", "--tenant", "acme", "--url", "https://hooks.example.com/in", "--types", "order.*,invoice.paid", "--header", "x-team: pay", "--json"], environment: env)
            #expect(created.status == 0, "\(created.output)")
            let json = try #require(created.output.range(of: "{").map { String(created.output[$0.lowerBound...]) })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            let id = try #require(object["id"] as? String)
            let secret = try Secret(encoded: try #require(object["secret"] as? String))
            #expect(object["types"] as? [String] == ["invoice.paid", "order.*"])
            #expect((object["headers"] as? [String: String])?["x-team"] == "pay")

            // The stored record holds the secret sealed, never in clear.
            let registry = try await fixture.store().load()
            let stored = try #require(registry[id])
            #expect(!stored.sealedSecret.contains(secret.encoded))
            #expect(try SecretBox(masterKeyBase64: fixture.masterKey).open(stored.sealedSecret, endpointID: id) == secret)

            let listed = try runCommand([sluice, "endpoints", "list", "--tenant", "acme"], environment: env)
            #expect(listed.output.contains(id) && listed.output.contains("1 endpoint"))
            let header = try #require(listed.output.split(separator: "\n").first { $0.hasPrefix("ID") }, "a header row: \(listed.output)")
            let row = try #require(listed.output.split(separator: "\n").first { $0.hasPrefix(id) })
            #expect(header.range(of: "URL")?.lowerBound.utf16Offset(in: header) == row.range(of: "http")?.lowerBound.utf16Offset(in: row), "columns align:\n\(header)\n\(row)")
            #expect(!listed.output.contains(secret.encoded), "the secret is shown only at creation")

            #expect(try runCommand([sluice, "endpoints", "disable", id, "--reason", "maintenance"], environment: env).output.contains("disabled \(id)"))
            let disabled = try runCommand([sluice, "endpoints", "get", id, "--json"], environment: env)
            #expect(disabled.output.contains(#""enabled" : false"#) && disabled.output.contains("maintenance"))
            #expect(try runCommand([sluice, "endpoints", "enable", id], environment: env).status == 0)
            #expect(try runCommand([sluice, "endpoints", "get", id, "--json"], environment: env).output.contains(#""enabled" : true"#))
            #expect(try runCommand([sluice, "endpoints", "delete", id], environment: env).output.contains("deleted \(id)"))
            let gone = try runCommand([sluice, "endpoints", "get", id], environment: env)
            #expect(gone.status == 1 && gone.output.contains("no endpoint \(id)"))
        }
    }

    @Test("update changes only what is given; rotate-secret prints a new secret once and keeps the old one signing for the overlap; bad values are refused")
    func updateAndRotate() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            var env = fixture.environment(instance: "cli")
            env["SLUICE_ALLOW_PRIVATE"] = "0"
            let endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*", url: "https://hooks.example.com/v1")
            let updated = try runCommand(
                [sluice, "endpoints", "update", endpoint.id, "--url", "https://hooks.example.com/v2", "--timeout", "5s", "--header", "x-a: 1", "--json"], environment: env)
            #expect(updated.status == 0, "\(updated.output)")
            var stored = try #require(try await fixture.store().load()[endpoint.id])
            #expect(stored.url == "https://hooks.example.com/v2" && stored.timeoutMs == 5000 && stored.headers["x-a"] == "1")
            #expect(stored.filter == endpoint.filter && stored.revision == endpoint.revision + 1, "the rest is unchanged")
            #expect(try runCommand([sluice, "endpoints", "update", endpoint.id, "--remove-header", "x-a"], environment: env).status == 0)
            #expect(try await fixture.store().load()[endpoint.id]?.headers.isEmpty == true)

            let refused = try runCommand([sluice, "endpoints", "update", endpoint.id, "--url", "https://10.0.0.1/x"], environment: env)
            #expect(refused.status == 1 && refused.output.contains("SLUICE_ALLOW_PRIVATE"), "\(refused.output)")
            let badTimeout = try runCommand([sluice, "endpoints", "update", endpoint.id, "--timeout", "soon"], environment: env)
            #expect(badTimeout.status == 64 && badTimeout.output.contains("--timeout"), "\(badTimeout.output)")

            let box = try SecretBox(masterKeyBase64: fixture.masterKey)
            let old = try box.open(stored.sealedSecret, endpointID: endpoint.id)
            let rotated = try runCommand([sluice, "endpoints", "rotate-secret", endpoint.id, "--overlap", "1h"], environment: env)
            #expect(rotated.status == 0, "\(rotated.output)")
            let line = try #require(rotated.output.split(separator: "\n").first { $0.hasPrefix("secret: ") })
            let new = try Secret(encoded: String(line.dropFirst("secret: ".count).prefix { $0 != " " }))
            stored = try #require(try await fixture.store().load()[endpoint.id])
            #expect(try stored.signingSecrets(box: box, now: Date()) == [new, old], "both sign during the overlap")
            #expect(try stored.signingSecrets(box: box, now: Date().addingTimeInterval(3700)) == [new])
            let missing = try runCommand([sluice, "endpoints", "rotate-secret", "ep_nope"], environment: env)
            #expect(missing.status == 1 && missing.output.contains("sluice endpoints list"))
        }
    }

    @Test("create refuses private and plain-http URLs, bad filters and a missing master key, saying how to fix each")
    func refusals() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let env = fixture.environment(instance: "cli")
            func create(_ url: String, _ extra: [String] = [], env: [String: String]) throws -> CommandResult {
                try runCommand([sluice, "endpoints", "create", "--tenant", "acme", "--url", url] + extra, environment: env)
            }
            let privateURL = try create("https://[::ffff:127.0.0.1]/x", env: env)
            #expect(privateURL.status == 1 && privateURL.output.contains("SLUICE_ALLOW_PRIVATE"))
            let octal = try create("https://0177.0.0.1/x", env: env)
            #expect(octal.status == 1 && octal.output.contains("loopback"))
            let http = try create("http://hooks.example.com/x", env: env)
            #expect(http.status == 1 && http.output.contains("SLUICE_ALLOW_HTTP"))
            let filter = try create("https://hooks.example.com/x", ["--types", "or*der"], env: env)
            #expect(filter.status != 0 && filter.output.contains("prefix like order.*"))
            var noKey = env
            noKey["SLUICE_MASTER_KEY"] = nil
            let keyless = try create("https://hooks.example.com/x", env: noKey)
            #expect(keyless.status == 1 && keyless.output.contains("SLUICE_MASTER_KEY") && keyless.output.contains("/dev/urandom"))
            var dev = env
            dev["SLUICE_ALLOW_PRIVATE"] = "1"
            dev["SLUICE_ALLOW_HTTP"] = "1"
            #expect(try create("http://127.0.0.1:8080/x", env: dev).status == 0, "dev mode permits loopback")
            #expect(try await fixture.store().load().count == 1, "refused creates wrote nothing")
        }
    }

    @Test("events publish writes structured and binary CloudEvents that decode")
    func publish() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let env = fixture.environment(instance: "cli")
            let structured = try runCommand([sluice, "events", "publish", "--tenant", "acme", "--type", "order.created", "--data", #"{"n":1}"#, "--count", "3", "--json"], environment: env)
            #expect(structured.status == 0, "\(structured.output)")
            #expect(structured.output.contains("published 3 events"))
            let binary = try runCommand([sluice, "events", "publish", "--tenant", "acme", "--type", "user.created", "--binary", "--id", "b1"], environment: env)
            #expect(binary.status == 0)
            let bad = try runCommand([sluice, "events", "publish", "--tenant", "acme", "--type", "t", "--data", "{nope"], environment: env)
            #expect(bad.status != 0 && bad.output.contains("--data is not JSON"))

            let records = try await fixture.read("events", atLeast: 4)
            #expect(records.count == 4)
            let decoder = EventDecoder()
            for record in records {
                var headers: [String: [UInt8]] = [:]
                for h in record.headers { headers[h.key] = h.value ?? [] }
                let event = try decoder.decode(key: record.key, value: record.value, headers: headers).get()
                #expect(event.tenant == "acme")
            }
        }
    }

    @Test("events publish --file and from standard input: lines become events; one bad line publishes nothing and names the line")
    func publishFromFile() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let env = fixture.environment(instance: "cli")
            let path = Scratch.path("events", suffix: ".jsonl")
            try """
                {"id":"f1","type":"order.created","data":{"n":1}}

                {"id":"f2","type":"order.paid","tenant":"globex","data":{"n":2}}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            let fromFile = try runCommand([sluice, "events", "publish", "--file", path, "--tenant", "acme"], environment: env)
            #expect(fromFile.status == 0 && fromFile.output.contains("published 2 events"), "\(fromFile.output)")
            let piped = try runCommand(
                ["/bin/sh", "-c", #"printf '{"id":"s1","type":"t.x"}\n' | "$0" events publish --file - --tenant acme"#, sluice], environment: env)
            #expect(piped.status == 0 && piped.output.contains("published 1 event"), "\(piped.output)")

            try "{\"id\":\"ok\",\"type\":\"t\"}\nnot json\n{\"id\":\"x\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
            let bad = try runCommand([sluice, "events", "publish", "--file", path, "--tenant", "acme"], environment: env)
            #expect(bad.status == 1 && bad.output.contains("line 2") && bad.output.contains("line 3") && bad.output.contains("nothing was published"), "\(bad.output)")

            let records = try await fixture.read("events", atLeast: 3)
            let events = try records.map { try EventDecoder().decode(key: $0.key, value: $0.value, headers: [:]).get() }
            #expect(events.map(\.id).sorted() == ["f1", "f2", "s1"], "the bad file's good line was not published either")
            #expect(events.first { $0.id == "f2" }?.tenant == "globex" && events.first { $0.id == "f1" }?.tenant == "acme")
        }
    }

    @Test("a master key other than the one the endpoints use is refused, saying how to re-key on purpose")
    func wrongMasterKey() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let existing = try await fixture.createEndpoint(tenant: "acme", filter: "*", url: "https://hooks.example.com/a")
            var env = fixture.environment(instance: "cli")
            env["SLUICE_MASTER_KEY"] = SecretBox.Key.generateBase64()
            let create = try runCommand([sluice, "endpoints", "create", "--tenant", "acme", "--url", "https://hooks.example.com/b"], environment: env)
            #expect(create.status != 0 && create.output.contains("master key") && create.output.contains("--new-master-key"), "\(create.output)")
            let rotate = try runCommand([sluice, "endpoints", "rotate-secret", existing.id], environment: env)
            #expect(rotate.status != 0 && rotate.output.contains("master key"), "\(rotate.output)")
            #expect(try await fixture.store().load().count == 1, "nothing was written")
            let deliberate = try runCommand([sluice, "endpoints", "create", "--tenant", "acme", "--url", "https://hooks.example.com/b", "--new-master-key"], environment: env)
            #expect(deliberate.status == 0, "\(deliberate.output)")
        }
    }

    @Test("verify accepts the spec's example signature and refuses a changed body")
    func verify() throws {
        let body = Scratch.path("verify-body")
        try #"{"test": 2432232314}"#.write(toFile: body, atomically: true, encoding: .utf8)
        let args = [sluice, "verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                    "--timestamp", "1614265330", "--signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "--body-file", body]
        let old = try runCommand(args)
        #expect(old.status == 1 && old.output.contains("s old"), "the example is from 2021: outside the 5 minute tolerance")
        let ok = try runCommand(args + ["--tolerance", "3650d"])
        #expect(ok.status == 0 && ok.output.contains("verified"))
        try #"{"test": 2432232315}"#.write(toFile: body, atomically: true, encoding: .utf8)
        let changed = try runCommand(args + ["--tolerance", "3650d"])
        #expect(changed.status == 1 && changed.output.contains("no signature matches"))
    }
}
