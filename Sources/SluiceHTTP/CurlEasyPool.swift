import CCurl

/// Easy handles kept for the next request instead of freed, with the options every
/// transfer shares set once (``CurlTransfer/configure(_:caFile:secure:)``): a delivery costs no
/// `curl_easy_init`, no `curl_easy_reset` and a handful of options, not twenty. A handle
/// given back has what pointed into its transfer unset (``CurlTransfer/detach(_:)``); the
/// next transfer sets all of its own options again. Connections live in the multi handle
/// either way. Handles for plain HTTP and for HTTPS are kept apart, as their receive
/// buffers differ in size (``CurlTransfer/receiveBufferSize(secure:)``).
///
/// Invariant: only ``CurlMultiClient``'s loop thread uses it; a handle is either in the
/// pool or lent to exactly one transfer, and is only ever lent for the scheme it was made
/// for; at most `capacity` idle handles of each scheme are kept, the rest are freed;
/// ``drain()`` frees every idle handle (the loop calls it when it ends, after giving back
/// the handles of the transfers it failed).
///
/// ```swift
/// var pool = CurlEasyPool()
/// if let easy = pool.take(secure: true) { /* set options, run the transfer */ pool.give(easy, secure: true) }
/// ```
struct CurlEasyPool {
    private var idle: [UnsafeMutableRawPointer] = []
    private var idleSecure: [UnsafeMutableRawPointer] = []
    let capacity: Int
    /// The CA bundle every handle verifies servers against (nil: libcurl's default, the system's).
    let caFile: String?

    init(capacity: Int = 1024, caFile: String? = nil) { (self.capacity, self.caFile) = (capacity, caFile) }

    /// An idle handle made for the scheme (`secure`: HTTPS), or a new one; nil only when
    /// curl cannot allocate one.
    mutating func take(secure: Bool) -> UnsafeMutableRawPointer? {
        if let easy = secure ? idleSecure.popLast() : idle.popLast() { return easy }
        guard let easy = curl_easy_init() else { return nil }
        CurlTransfer.configure(easy, caFile: caFile, secure: secure)
        return easy
    }

    /// Takes back a handle that is no longer in the multi handle; `secure` as it was taken.
    mutating func give(_ easy: UnsafeMutableRawPointer, secure: Bool) {
        CurlTransfer.detach(easy)
        guard (secure ? idleSecure.count : idle.count) < capacity else { return curl_easy_cleanup(easy) }
        if secure { idleSecure.append(easy) } else { idle.append(easy) }
    }

    /// Frees every idle handle.
    mutating func drain() {
        for easy in idle + idleSecure { curl_easy_cleanup(easy) }
        (idle, idleSecure) = ([], [])
    }
}
