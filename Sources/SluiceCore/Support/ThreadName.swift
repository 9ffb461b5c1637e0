import CProcess

/// Names the calling thread, as `top -H`, `perf` and `/proc/PID/task/*/comm` show it.
///
/// Why not `Thread.current.name = …`: on Linux, Foundation applies that name only when the
/// `Thread` object already knows its pthread, which its starter records after
/// `pthread_create` returns; a thread that names itself first thing can run before that
/// and keep its creator's name (dispatch's curl loop then showed as a Swift pool thread,
/// `oot.default-qos`, in a profile). Invariant: Linux keeps 15 bytes of a name; longer
/// ones are cut there.
///
/// ```swift
/// Thread { ThreadName.set("sluice.http"); loop() }.start()
/// ```
public enum ThreadName {
    /// Names the calling thread `name` (its first 15 bytes).
    public static func set(_ name: String) {
        _ = sluice_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }
}
