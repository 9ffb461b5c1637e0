import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Throwaway files of one test process (SQLite stores, config files, request bodies): all
/// under one folder of the temporary directory, removed when the process exits. Logs that
/// a failing test names stay in the temporary directory itself, to be read afterwards.
///
/// Invariant: every path is new (a UUID in its name) and inside ``folder``.
///
/// ```swift
/// let store = try SQLiteQueryStore(path: Scratch.path("store") + "/store.sqlite")
/// ```
public enum Scratch {
    /// `sluice-scratch-<pid>` in the temporary directory, made on first use.
    public static let folder: String = {
        let folder = NSTemporaryDirectory() + "sluice-scratch-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.folder) }
        return folder
    }()

    /// A new path in ``folder``: `<name>-<uuid><suffix>` (nothing is created there).
    public static func path(_ name: String, suffix: String = "") -> String {
        "\(folder)/\(name)-\(UUID().uuidString)\(suffix)"
    }
}
