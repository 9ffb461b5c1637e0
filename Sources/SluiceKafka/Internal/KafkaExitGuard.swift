import CRdKafka
import Foundation

/// Makes the process's exit wait until every Kafka client is destroyed and its threads are gone.
///
/// The librdkafka runtime in `.deps` carries its own OpenSSL, which registers `OPENSSL_cleanup`
/// with `atexit` inside the first `rd_kafka_new`. A client's last reference is often dropped on
/// another thread (an ``EventPump`` thread releases its handle just after it stops), so a
/// command could `exit` while librdkafka's threads were still ending: OpenSSL's cleanup then
/// freed the registry those threads deregister from, and the process died of a segfault in
/// `init_thread_deregister` after its work was done (exit 139 instead of 1, seen in CI).
///
/// Invariant: `atexit` handlers run in the reverse order of registration, so this one,
/// registered right after the first `rd_kafka_new` returns, runs before OpenSSL's cleanup.
/// It waits at most ``maximumWait``: a client still referenced at exit delays it by that much,
/// never forever.
///
/// ```swift
/// let rk = rd_kafka_new(type, conf, &errbuf, errbuf.count)
/// KafkaExitGuard.install()
/// ```
enum KafkaExitGuard {
    /// The longest an exit waits for clients to be destroyed.
    static let maximumWait: Duration = .seconds(5)

    private static let installed: Void = {
        atexit {
            let waited = rd_kafka_wait_destroyed(KafkaExitGuard.maximumWait.milliseconds)
            if waited != 0 {
                FileHandle.standardError.write(Data("warning: Kafka clients were still running at exit (waited \(KafkaExitGuard.maximumWait))\n".utf8))
            }
        }
    }()

    /// Registers the exit handler once; call after a successful `rd_kafka_new`.
    static func install() { _ = installed }
}
