import CCurl

/// One request as curl reads it, in a single allocation: its header lines and its pinned
/// address as `curl_slist` nodes, and its body.
///
/// curl only reads the lists it is given for `CURLOPT_HTTPHEADER` and `CURLOPT_RESOLVE`
/// (it copies what it keeps), so they need not come from `curl_slist_append`, which makes
/// two allocations a line; with the line strings made and bridged to C, a delivery's
/// headers cost about 28 allocations that way (heaptrack, session 21), one this way.
///
/// Invariant: the memory stays where it is, unchanged, until ``deallocate()``, which its
/// ``CurlTransfer`` calls once the easy handle no longer points into it.
///
/// ```swift
/// let bytes = CurlRequestBytes(request)
/// sluice_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, bytes.headers)
/// // ... the transfer runs ...
/// bytes.deallocate()
/// ```
struct CurlRequestBytes {
    /// The request's headers as `Name: value` lines, then `Expect:` (curl adds
    /// `Expect: 100-continue` to large POSTs; endpoints answer faster without it).
    let headers: UnsafeMutablePointer<curl_slist>
    /// The request's `host:port:address` pin, if it has one.
    let resolve: UnsafeMutablePointer<curl_slist>?
    /// The body's bytes (at least one byte is allocated, so the address is never null).
    let body: UnsafeMutableRawPointer
    private let memory: UnsafeMutableRawBufferPointer

    private static let expect = Array("Expect:".utf8)

    init(_ request: WebhookRequest) {
        let lineCount = request.headers.count + 1
        let nodeCount = lineCount + (request.resolve == nil ? 0 : 1)
        var textCount = Self.expect.count + 1
        for (name, value) in request.headers { textCount += name.utf8.count + 2 + value.utf8.count + 1 }
        if let resolve = request.resolve { textCount += resolve.utf8.count + 1 }
        let nodeBytes = nodeCount * MemoryLayout<curl_slist>.stride
        memory = .allocate(byteCount: nodeBytes + textCount + max(request.body.count, 1), alignment: MemoryLayout<curl_slist>.alignment)
        let base = memory.baseAddress.unsafelyUnwrapped
        let nodes = base.bindMemory(to: curl_slist.self, capacity: nodeCount)
        let text = (base + nodeBytes).bindMemory(to: CChar.self, capacity: textCount)
        var writer = LineWriter(text: text)

        for (index, (name, value)) in request.headers.enumerated() {
            (nodes + index).initialize(to: curl_slist(data: writer.line(name.utf8, ": ".utf8, value.utf8), next: nodes + index + 1))
        }
        (nodes + lineCount - 1).initialize(to: curl_slist(data: writer.line(Self.expect, EmptyCollection(), EmptyCollection()), next: nil))
        headers = nodes
        if let pin = request.resolve {
            let node = nodes + lineCount
            node.initialize(to: curl_slist(data: writer.line(pin.utf8, EmptyCollection(), EmptyCollection()), next: nil))
            resolve = node
        } else {
            resolve = nil
        }
        body = base + nodeBytes + textCount
        UnsafeMutableRawBufferPointer(start: body, count: request.body.count).copyBytes(from: request.body)
    }

    /// Frees the memory; nothing may point into it any more.
    func deallocate() {
        memory.deallocate()
    }

    /// Writes NUL-terminated lines one after another into the text region.
    private struct LineWriter {
        let text: UnsafeMutablePointer<CChar>
        var offset = 0

        /// The three parts joined and terminated; returns where the line starts.
        mutating func line<A: Collection<UInt8>, B: Collection<UInt8>, C: Collection<UInt8>>(_ a: A, _ b: B, _ c: C) -> UnsafeMutablePointer<CChar> {
            let start = text + offset
            for byte in a { text[offset] = CChar(bitPattern: byte); offset += 1 }
            for byte in b { text[offset] = CChar(bitPattern: byte); offset += 1 }
            for byte in c { text[offset] = CChar(bitPattern: byte); offset += 1 }
            text[offset] = 0
            offset += 1
            return start
        }
    }
}
