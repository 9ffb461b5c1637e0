// sluice-bench: measures Sluice's Kafka layer on a running broker and prints one JSON
// object. `Benchmarks/run.py` (make bench) starts the broker, runs this beside the
// confluent-kafka Python client, and prints the table.
//
//   sluice-bench kafka --brokers 127.0.0.1:9092 --count 200000 --size 200
//   sluice-bench fanout --brokers 127.0.0.1:9092 --count 20000 --factor 5
//   sluice-bench transform --count 200000 --factor 5     (fanout's own CPU, no broker)
//   sluice-bench attempt-work --count 200000             (dispatch's own CPU per delivery, no broker)
//   sluice-bench connections --sink https://h:8443/delay/3000 --count 1000 --ca-file ca.pem --resolve h:8443:127.0.0.1
//   sluice-bench dispatch-prepare --brokers … --count 50000 --endpoints 1000 --sink http://127.0.0.1:8080
//   sluice-bench attempts --brokers … --prefix bench-abc123. --count 50000
//   sluice-bench ui-store --prefix /tmp/store.sqlite --count 100000 --endpoints 100
//   sluice-bench hummingbird|store|seed-attempts …   (the admin API's rows: AdminBench.swift)
import Foundation
import Logging
import SluiceKafka

struct Arguments {
    var brokers = "127.0.0.1:9092"
    var count = 200_000
    var size = 200
    var partitions = 8
    var factor = 1
    var endpoints = 100
    var sink = "http://127.0.0.1:8080"
    /// Endpoints spread over 127.0.0.1 … 127.0.0.N (the sink listens on each; 1: all on `sink`).
    var hosts = 1
    var prefix = ""
    var timeout = 300
    var rate = 0.0
    var mix = "fast"
    var healthy = "/tmp/sluice-bench-healthy.txt"
    var times = "/tmp/sluice-bench-times.json"
    var port = 8080
    var store = "/tmp/sluice-bench-store.sqlite"
    /// What `publish` starts its event ids with (`e2e-0`, `e2e-1`, …).
    var ids = "e2e-"
    /// `connections`: the CA bundle to verify the server with, and a `HOST:PORT:ADDRESS` pin.
    var caFile: String?
    var resolve: String?

    init(_ argv: [String]) throws {
        var it = argv.makeIterator()
        while let flag = it.next() {
            guard let value = it.next() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--brokers": brokers = value
            case "--count": count = Int(value) ?? count
            case "--size": size = Int(value) ?? size
            case "--partitions": partitions = Int(value) ?? partitions
            case "--factor": factor = Int(value) ?? factor
            case "--endpoints": endpoints = Int(value) ?? endpoints
            case "--sink": sink = value
            case "--hosts": hosts = Int(value) ?? hosts
            case "--prefix": prefix = value
            case "--timeout": timeout = Int(value) ?? timeout
            case "--rate": rate = Double(value) ?? rate
            case "--mix": mix = value
            case "--healthy": healthy = value
            case "--times": times = value
            case "--port": port = Int(value) ?? port
            case "--store": store = value
            case "--ids": ids = value
            case "--ca-file": caFile = value
            case "--resolve": resolve = value
            default: throw BenchError("unknown flag \(flag)")
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let argv = Array(CommandLine.arguments.dropFirst())
let modes: [String: (Arguments) async throws -> [String: Any]] = [
    "kafka": kafkaBenchmark, "fanout": fanoutBenchmark, "transform": transformBenchmark, "attempt-work": attemptWorkBenchmark, "connections": connectionsBenchmark, "dispatch-prepare": dispatchPrepare, "attempts": attemptsReport, "publish": publishTimed,
    "hummingbird": hummingbirdBaseline, "store": storeBenchmark, "seed-attempts": seedAttempts, "ui-store": seedUIStore,
]
guard let mode = argv.first, let benchmark = modes[mode] else {
    FileHandle.standardError.write(Data("""
        usage: sluice-bench kafka|fanout|transform|attempt-work|dispatch-prepare|attempts|publish|store|ui-store --brokers HOST:PORT [--count N] [--size BYTES]
               [--partitions N] [--factor N] [--endpoints N --sink URL [--hosts N]] [--prefix P --timeout S] [--rate R --times FILE] [--mix fast|mixed --healthy FILE]
               sluice-bench hummingbird --port N;  sluice-bench seed-attempts --store PATH [--count N] [--endpoints N]
               sluice-bench connections --sink URL [--count N] [--ca-file PEM] [--resolve HOST:PORT:ADDRESS]

        """.utf8))
    exit(64)
}
do {
    let args = try Arguments(Array(argv.dropFirst()))
    let result = try await benchmark(args)
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("sluice-bench: \(error)\n".utf8))
    exit(1)
}
