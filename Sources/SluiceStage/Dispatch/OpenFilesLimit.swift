import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The process's open-files limit (`RLIMIT_NOFILE`), raised for dispatch's connections.
///
/// Dispatch keeps a socket per request under way (up to `--max-in-flight` plus
/// `--max-parked`) besides librdkafka's; Debian's default soft limit is 1,024, and a socket
/// refused by it would count as the endpoint's connection failure. So at start the soft
/// limit is raised to what dispatch may need, within the hard limit (as Go's runtime raises
/// it for every program); only an operator can raise the hard one.
///
/// Invariant: the soft limit is never lowered.
///
/// ```swift
/// let limit = OpenFilesLimit.raise(toAtLeast: 4_256)   // (soft: 4_256, hard: 524_288)
/// if let limit, limit.soft < 4_256 { logger.warning("raise ulimit -n") }
/// ```
enum OpenFilesLimit {
    /// Raises the soft limit to `needed` when it is lower (at most to the hard limit);
    /// returns both limits after (nil if they cannot be read).
    static func raise(toAtLeast needed: Int) -> (soft: Int, hard: Int)? {
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        let wanted = rlim_t(clamping: max(0, needed))
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = min(wanted, limit.rlim_max)
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
        #else
        return nil
        #endif
    }

    /// Raises the soft limit to `needed`, and warns when the hard limit keeps it lower,
    /// naming the settings (`what`) that need the files.
    static func ensure(_ needed: Int, for what: String, logger: Logger) {
        guard let limit = raise(toAtLeast: needed), limit.soft < needed else { return }
        logger.warning(
            "the open-files limit is below what \(what) may open: raise it (ulimit -n, or LimitNOFILE= in a systemd unit) or lower them",
            metadata: ["limit": "\(limit.soft)", "needed": "\(needed)"])
    }
}
