#if canImport(Glibc)
import Glibc
#endif

/// How a long-running Sluice process ends once its graceful shutdown is complete (every
/// Kafka client closed and flushed, every service returned): C stdio flushed, then
/// `_exit(0)`, without the process's `atexit` handlers.
///
/// Why: the librdkafka runtime carries its own OpenSSL, whose `atexit` cleanup frees its
/// per-thread register while idle libdispatch workers may still be exiting and
/// deregistering from it. A clean-clone test run saw `sluice-fanout` crash there
/// (SIGSEGV in OpenSSL's `init_thread_deregister`, inside librdkafka) right after a clean
/// SIGTERM shutdown, so a supervisor saw a crash instead of exit 0. Nothing is left to
/// clean up by then: the kernel closes sockets and files.
///
/// Invariant: called only after the graceful shutdown returned; never on an error path
/// (errors exit through the argument parser with their message and status).
///
/// ```swift
/// try await ServiceGroup(services: [metrics, stage], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ProcessExit.afterGracefulShutdown()
/// ```
public enum ProcessExit {
    public static func afterGracefulShutdown() -> Never {
        fflush(nil)
        _exit(0)
    }
}
