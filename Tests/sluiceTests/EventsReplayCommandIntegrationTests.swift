import Foundation
import SluiceCore
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("sluice events replay: refusals and help, as an operator meets them (integration)")
struct EventsReplayCommandIntegrationTests {
    let sluice = executablePath("sluice")

    @Test("unknown or disabled endpoints, bad times, an until before since and a window past the retention fail with what to do next")
    func refusals() async throws {
        try await IntegrationTest.run { kafka in
            let fixture = try await StageFixture.make(kafka)
            let env = fixture.environment(instance: "cli")
            var endpoint = try await fixture.createEndpoint(tenant: "acme", filter: "order.*")
            func replay(_ arguments: [String]) throws -> CommandResult {
                try runCommand([sluice, "events", "replay"] + arguments, environment: env, timeout: .seconds(300))
            }

            let unknown = try replay(["--endpoint", "ep_nosuch", "--since", "1h"])
            #expect(unknown.status == 1 && unknown.output.contains("endpoint ep_nosuch does not exist") && unknown.output.contains("sluice endpoints list"), "\(unknown.output)")
            let badTime = try replay(["--endpoint", endpoint.id, "--since", "last tuesday"])
            #expect(badTime.status == 1 && badTime.output.contains("--since 'last tuesday' is not a time"), "\(badTime.output)")
            let reversed = try replay(["--endpoint", endpoint.id, "--since", "1h", "--until", "2h"])
            #expect(reversed.status == 1 && reversed.output.contains("must be after --since"), "\(reversed.output)")
            let future = try replay(["--endpoint", endpoint.id, "--since", "2200-01-01"])
            #expect(future.status == 1 && future.output.contains("is in the future"), "\(future.output)")
            let badTypes = try replay(["--endpoint", endpoint.id, "--since", "1h", "--types", "order*"])
            #expect(badTypes.status == 1 && badTypes.output.contains("--types 'order*'"), "\(badTypes.output)")
            let badRate = try replay(["--endpoint", endpoint.id, "--since", "1h", "--rate", "0"])
            #expect(badRate.status == 64 && badRate.output.contains("--rate"), "a usage error: \(badRate.output)")
            let gone = try replay(["--endpoint", endpoint.id, "--since", "30d", "--until", "20d"])
            #expect(gone.status == 1 && gone.output.contains("retention 7d") && gone.output.contains("deleted"), "\(gone.output)")
            let partly = try replay(["--endpoint", endpoint.id, "--since", "10d", "--dry-run"])
            #expect(partly.status == 0 && partly.output.contains("before what \(fixture.topic("events")) keeps"), "\(partly.output)")
            #expect(partly.output.contains("cannot be replayed") && partly.output.contains("would send 0 of 0"), "\(partly.output)")

            endpoint.enabled = false
            endpoint.revision += 1
            try await fixture.store().put(endpoint)
            let disabled = try replay(["--endpoint", endpoint.id, "--since", "1h"])
            #expect(disabled.status == 1 && disabled.output.contains("is disabled") && disabled.output.contains("sluice endpoints enable \(endpoint.id)"), "\(disabled.output)")
            let look = try replay(["--endpoint", endpoint.id, "--since", "1h", "--dry-run"])
            #expect(look.status == 0 && look.output.contains("would send 0 of 0"), "a dry run may look at a disabled endpoint: \(look.output)")
        }
    }

    @Test("--help explains the choice of tool, --only-missing, idempotency, the rate and the retention")
    func help() throws {
        let help = try runCommand([sluice, "events", "replay", "--help"])
        #expect(help.status == 0)
        for text in ["--only-missing", "--replay-id", "--rate", "sluice dlq replay", "webhook-id", "retention", "Examples"] {
            #expect(help.output.contains(text), "\(text) in \(help.output)")
        }
    }
}
