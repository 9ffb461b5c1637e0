import CCurl

/// Easy handles kept for the next request instead of freed: `curl_easy_reset` clears a
/// finished handle's options (a transfer sets all of its own) and keeps its buffers, so a
/// delivery costs no `curl_easy_init` and its allocations. Connections live in the multi
/// handle either way.
///
/// Invariant: only ``CurlMultiClient``'s loop thread uses it; a handle is either in the
/// pool or lent to exactly one transfer; at most `capacity` idle handles are kept, the rest
/// are freed; ``drain()`` frees every idle handle (the loop calls it when it ends, after
/// giving back the handles of the transfers it failed).
///
/// ```swift
/// var pool = CurlEasyPool()
/// if let easy = pool.take() { /* set options, run the transfer */ pool.give(easy) }
/// ```
struct CurlEasyPool {
    private var idle: [UnsafeMutableRawPointer] = []
    let capacity: Int

    init(capacity: Int = 1024) { self.capacity = capacity }

    /// An idle handle, or a new one; nil only when curl cannot allocate one.
    mutating func take() -> UnsafeMutableRawPointer? {
        idle.popLast() ?? curl_easy_init()
    }

    /// Takes back a handle that is no longer in the multi handle.
    mutating func give(_ easy: UnsafeMutableRawPointer) {
        guard idle.count < capacity else { return curl_easy_cleanup(easy) }
        curl_easy_reset(easy)
        idle.append(easy)
    }

    /// Frees every idle handle.
    mutating func drain() {
        for easy in idle { curl_easy_cleanup(easy) }
        idle = []
    }
}
