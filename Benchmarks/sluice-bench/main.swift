// sluice-bench: measures Sluice's Kafka layer on a running broker and prints one JSON
// object. `Benchmarks/run.py` (make bench) starts the broker, runs this beside the
// confluent-kafka Python client, and prints the table.
//
//   sluice-bench kafka --brokers 127.0.0.1:9092 --count 200000 --size 200
//   sluice-bench fanout --brokers 127.0.0.1:9092 --count 20000 --factor 5
import Foundation
import Logging
import SluiceKafka

struct Arguments {
    var brokers = "127.0.0.1:9092"
    var count = 200_000
    var size = 200
    var partitions = 8
    var factor = 1

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
guard let mode = argv.first, ["kafka", "fanout"].contains(mode) else {
    FileHandle.standardError.write(Data("usage: sluice-bench kafka|fanout --brokers HOST:PORT [--count N] [--size BYTES] [--partitions N] [--factor N]\n".utf8))
    exit(64)
}
do {
    let args = try Arguments(Array(argv.dropFirst()))
    let result = mode == "kafka" ? try await kafkaBenchmark(args) : try await fanoutBenchmark(args)
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("sluice-bench: \(error)\n".utf8))
    exit(1)
}
