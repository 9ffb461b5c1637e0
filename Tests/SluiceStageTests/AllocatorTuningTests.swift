import Logging
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStage

@Suite("Allocator tuning")
struct AllocatorTuningTests {
    @Test("with nothing set, the mapping threshold and the trim threshold are planned")
    func plansTheSettings() throws {
        let plan = try #require(AllocatorTuning.plan(environment: ["PATH": "/usr/bin", "GLIBC_TUNABLES": "glibc.rtld.nns=2"]))
        #expect(plan.map(\.description) == ["mmap_threshold=262144", "trim_threshold=1048576"])
    }

    @Test("an operator's own malloc tuning is kept", arguments: [
        ["MALLOC_ARENA_MAX": "4"], ["MALLOC_MMAP_THRESHOLD_": "131072"], ["MALLOC_TRIM_THRESHOLD_": "0"],
        ["GLIBC_TUNABLES": "glibc.rtld.nns=2:glibc.malloc.arena_max=8"],
    ])
    func keepsTheOperatorsChoice(environment: [String: String]) {
        #expect(AllocatorTuning.plan(environment: environment) == nil)
        let log = CapturedLog(level: .debug)
        #expect(AllocatorTuning.apply(environment: environment, logger: log.logger) == nil)
        #expect(log.lines.contains { $0.contains("kept as it is") })
    }

    @Test("a setting glibc refuses is a warning naming it, and the others are still made")
    func warnsOnARefusal() throws {
        let log = CapturedLog(level: .info)
        let plan = try #require(AllocatorTuning.plan(environment: [:]))
        // glibc 2.36 answers 1 to these two options whatever the value, so the refusal
        // (mallopt answering 0, as for an option the C library does not know) is a setting
        // whose call answers 0.
        let refused = AllocatorTuning.Setting(name: "top_pad", value: 1, make: { _ in 0 })
        let made = AllocatorTuning.make([refused] + plan, logger: log.logger)
        #expect(made == ["mmap_threshold=262144", "trim_threshold=1048576"])
        let warning = try #require(log.lines.first)
        #expect(warning.contains("glibc refused a setting") && warning.contains("top_pad=1"), "\(warning)")
    }

    @Test("applied with nothing set, glibc takes both settings")
    func appliesBoth() throws {
        // What the settings do to memory is measured by `make bench` (the mixed run's RSS):
        // glibc maps a large block only when no free memory in its arena can serve it, so
        // a block's placement in this busy test process says nothing reliable.
        let made = try #require(AllocatorTuning.apply(environment: [:], logger: Logger(label: "t")))
        #expect(made == ["mmap_threshold=262144", "trim_threshold=1048576"])
    }
}
