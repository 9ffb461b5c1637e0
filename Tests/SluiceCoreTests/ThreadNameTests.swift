import Foundation
import SluiceCore
import Testing

@Suite("ThreadName: the calling thread's name as the system shows it")
struct ThreadNameTests {
    /// Names a new thread `name` from inside it, first thing, and returns what
    /// `/proc/thread-self/comm` then says.
    static func nameSeen(_ name: String) async -> String? {
        await withCheckedContinuation { continuation in
            Thread {
                ThreadName.set(name)
                let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                continuation.resume(returning: comm?.trimmingCharacters(in: .newlines))
            }.start()
        }
    }

    @Test("a thread that names itself first thing has that name (many times: Foundation's name could lose a race here)")
    func namedAtStart() async {
        for _ in 0..<50 {
            #expect(await Self.nameSeen("sluice.test") == "sluice.test")
        }
    }

    @Test("a name longer than Linux keeps is cut to 15 bytes, not refused")
    func longName() async {
        #expect(await Self.nameSeen("sluice.a-very-long-name") == "sluice.a-very-l")
    }
}
