import Logging
import SluiceCore
import Testing

@testable import SluiceStage

#if canImport(Glibc)
import Glibc
#endif

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
        let lines = Locked<[String]>([])
        let logger = Logger(label: "t") { JSONLogHandler(label: $0, level: .debug, sink: { line in lines.withLock { $0.append(line) } }) }
        #expect(AllocatorTuning.apply(environment: environment, logger: logger) == nil)
        #expect(lines.withLock { $0 }.contains { $0.contains("kept as it is") })
    }

    @Test("a setting glibc refuses is a warning naming it, and the others are still made")
    func warnsOnARefusal() throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "t") { JSONLogHandler(label: $0, level: .info, sink: { line in lines.withLock { $0.append(line) } }) }
        let plan = try #require(AllocatorTuning.plan(environment: [:]))
        // glibc 2.36 answers 1 to these two options whatever the value, so the refusal
        // (mallopt answering 0, as for an option the C library does not know) is a setting
        // whose call answers 0.
        let refused = AllocatorTuning.Setting(name: "top_pad", value: 1, make: { _ in 0 })
        let made = AllocatorTuning.make([refused] + plan, logger: logger)
        #expect(made == ["mmap_threshold=262144", "trim_threshold=1048576"])
        let warning = try #require(lines.withLock { $0 }.first)
        #expect(warning.contains("glibc refused a setting") && warning.contains("top_pad=1"), "\(warning)")
    }

    #if canImport(Glibc)
    @Test("once applied, a block of 300 KiB is mapped on its own and one of 200 KiB is not")
    func mapsLargeBlocks() throws {
        let made = try #require(AllocatorTuning.apply(environment: [:], logger: Logger(label: "t")))
        #expect(made.count == 2, "glibc took every setting: \(made)")
        // glibc marks a block mapped on its own with bit 1 (IS_MMAPPED) of the size word
        // just before it.
        func isMapped(_ bytes: Int) throws -> Bool {
            let block = try #require(malloc(bytes))
            defer { free(block) }
            return UnsafeRawPointer(block).load(fromByteOffset: -MemoryLayout<Int>.size, as: UInt.self) & 2 != 0
        }
        #expect(try isMapped(300 * 1024))
        #expect(try !isMapped(200 * 1024), "below the threshold (glibc's default starts at 128 KiB)")
    }
    #endif
}
