import CCurl

/// Easy handles kept for the next request instead of freed, with the options every
/// transfer shares set once (``CurlTransfer/configure(_:)``): a delivery costs no
/// `curl_easy_init`, no `curl_easy_reset` and a handful of options, not twenty. A handle
/// given back has what pointed into its transfer unset (``CurlTransfer/detach(_:)``); the
/// next transfer sets all of its own options again. Connections live in the multi handle
/// either way.
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
    /// The CA bundle every handle verifies servers against (nil: libcurl's default, the system's).
    let caFile: String?

    init(capacity: Int = 1024, caFile: String? = nil) { (self.capacity, self.caFile) = (capacity, caFile) }

    /// An idle handle, or a new one; nil only when curl cannot allocate one.
    mutating func take() -> UnsafeMutableRawPointer? {
        if let easy = idle.popLast() { return easy }
        guard let easy = curl_easy_init() else { return nil }
        CurlTransfer.configure(easy, caFile: caFile)
        return easy
    }

    /// Takes back a handle that is no longer in the multi handle.
    mutating func give(_ easy: UnsafeMutableRawPointer) {
        CurlTransfer.detach(easy)
        guard idle.count < capacity else { return curl_easy_cleanup(easy) }
        idle.append(easy)
    }

    /// Frees every idle handle.
    mutating func drain() {
        for easy in idle { curl_easy_cleanup(easy) }
        idle = []
    }
}
