import CProcess
import Foundation
import Logging
import SluiceCore
import SluiceHTTP
import SluiceStage

/// `sluice-bench connections`: what dispatch's HTTP client holds in memory per connection,
/// plain or over TLS. `--count` POSTs of `--size` bytes go to `--sink` (a URL that answers
/// late, such as the test receiver's `/delay/3000`, so that all are under way at once)
/// through one client (`--ca-file`, `--resolve` as dispatch sets them), with glibc's
/// allocator set up as every stage sets it (``AllocatorTuning``); the process's RSS is read
/// before (the client made and one request answered), at its peak while they are under
/// way, after they are answered (their connections kept open for reuse), and after a
/// `malloc_trim` as dispatch makes every 5 s (the pages freed since go back).
func connectionsBenchmark(_ args: Arguments) async throws -> [String: Any] {
    _ = AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment, logger: Logger(label: "sluice-bench"))
    var window = TransferWindow.Config()
    (window.floor, window.initial, window.ceiling) = (args.count, args.count, args.count)
    let client = CurlMultiClient(pools: [.init(maxConnections: args.count + 1, window: window)], caFile: args.caFile)
    defer { client.shutdown() }
    func request() -> WebhookRequest {
        WebhookRequest(
            url: args.sink, headers: [("content-type", "application/json")], body: Array(repeating: UInt8(ascii: "x"), count: args.size),
            timeout: .seconds(60), resolve: args.resolve)
    }
    if case .failure(let error) = await client.post(request()) { throw BenchError("the first request failed: \(error.message)") }
    let before = residentMiB()
    let peak = Locked(before)
    let sampler = Task {
        while !Task.isCancelled {
            let now = residentMiB()
            peak.withLock { $0 = max($0, now) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
    let started = ContinuousClock.now
    let failures = await withTaskGroup(of: Bool.self) { group in
        for _ in 0..<args.count {
            group.addTask { if case .failure = await client.post(request()) { return true } else { return false } }
        }
        return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
    }
    sampler.cancel()
    let after = residentMiB()
    let top = peak.withLock { max($0, after) }
    _ = sluice_malloc_trim()
    let trimmed = residentMiB()
    return [
        "connections": args.count, "failed": failures, "seconds": (ContinuousClock.now - started).timeInterval, "tls": args.sink.hasPrefix("https"),
        "rss_before_mib": before, "rss_peak_mib": top, "rss_after_mib": after, "rss_after_trim_mib": trimmed,
        "kib_per_connection_kept": (trimmed - before) * 1024 / Double(max(1, args.count)), "kib_per_connection_at_peak": (top - before) * 1024 / Double(max(1, args.count)),
    ]
}

/// This process's resident set (`VmRSS`), in MiB.
private func residentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kib / 1024
}
