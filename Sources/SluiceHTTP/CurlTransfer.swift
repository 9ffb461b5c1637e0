import CCurl
import Foundation
import SluiceCore

/// The state of one transfer while curl owns it: the request's bytes (kept alive and
/// at a fixed address until curl is done), the response excerpt and headers, and the
/// completion to call.
///
/// Lifetime: ``CurlMultiClient`` retains it (`Unmanaged.passRetained`) when it adds the
/// easy handle and releases it when the transfer completes or the client shuts down;
/// curl's callbacks reach it through that unretained pointer in between. The easy handle
/// is borrowed from the client's ``CurlEasyPool`` and goes back to it, not freed here.
final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let completion: CurlMultiClient.Completion
    let excerptLimit: Int
    let started = ContinuousClock.now
    /// The request's `host:port:address` pin, if it has one.
    let pin: String?
    /// Whether the pin was handed to curl with this transfer (``PinnedHosts``).
    let carriesPin: Bool
    /// Whether the handle came from the pool's HTTPS handles (and goes back to them).
    let secure: Bool
    private let bytes: CurlRequestBytes
    var excerpt: [UInt8] = []
    var retryAfter: String?
    var location: String?

    /// `secure`: `easy` was made for HTTPS (``CurlEasyPool/take(secure:)``); `carryPin`: hand
    /// curl the request's pin (else its multi handle already holds it).
    init(_ request: WebhookRequest, easy: UnsafeMutableRawPointer, secure: Bool, carryPin: Bool, completion: @escaping CurlMultiClient.Completion) {
        self.easy = easy
        self.completion = completion
        self.excerptLimit = request.excerptLimit
        self.secure = secure
        (pin, carriesPin) = (request.resolve, request.resolve != nil && carryPin)
        bytes = CurlRequestBytes(request)

        sluice_curl_easy_setopt_string(easy, CURLOPT_URL, request.url)
        sluice_curl_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, bytes.body)
        sluice_curl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        sluice_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, bytes.headers)
        sluice_curl_easy_setopt_slist(easy, CURLOPT_RESOLVE, carriesPin ? bytes.resolve : nil)
        // A pinned request never lets curl look its host up: without the pin in its cache
        // it fails (`dns`) rather than connect to an address nobody checked.
        sluice_curl_easy_setopt_resolver_start_function(easy, pin == nil ? nil : refuseResolving)
        sluice_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(request.timeout.timeInterval * 1000))
        sluice_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(min(request.timeout.timeInterval, 10) * 1000))
    }

    /// Whether `url` is an HTTPS URL (its scheme in any case).
    static func isSecure(_ url: String) -> Bool {
        let scheme = url.utf8.prefix(8)
        return scheme.count == 8 && zip(scheme, "https://".utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    /// The receive buffer a handle gets, instead of curl's 16 KiB: only a short excerpt of
    /// a response is kept, and the buffer lives as long as the handle. With 2,000 requests
    /// in flight 16 KiB buffers were a quarter of dispatch's heap (heaptrack: 37 of 153 MiB
    /// at its peak, 40,000 deliveries). Plain HTTP gets curl's least, 1 KiB: 2.8 KiB less
    /// per request under way (`sluice-bench connections`: 16.6 against 19.4 KiB), which took
    /// the 5,000-endpoint mixed run's peak RSS from 146–154 to 139–140 MiB at the same rate
    /// (session 42, three interleaved rounds). HTTPS keeps 4 KiB: 1 KiB there cost about a
    /// twentieth more CPU per delivery in six of six interleaved fast-sink runs (77 against
    /// 72 µs), for 3 of its 77–80 KiB per connection.
    static func receiveBufferSize(secure: Bool) -> Int { secure ? 4096 : 1024 }

    /// The options every transfer shares, set once when ``CurlEasyPool`` creates a handle
    /// (a handle keeps its options between transfers; each transfer sets its own above).
    /// `caFile`, when given, replaces the system's CA bundle for verifying servers; `secure`:
    /// the handle is for HTTPS requests (``receiveBufferSize(secure:)``).
    static func configure(_ easy: UnsafeMutableRawPointer, caFile: String? = nil, secure: Bool) {
        sluice_curl_easy_setopt_long(easy, CURLOPT_POST, 1)
        sluice_curl_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, receiveBufferSize(secure: secure))
        // libcurl (7.88) copies an HTTPS request into an upload buffer the handle keeps,
        // 64 KiB unless set: its least, 16 KiB (`sluice-bench connections`, 1,000 HTTPS
        // connections: 65 KiB of RSS each kept, after a trim, against 73; larger bodies go
        // in more pieces).
        sluice_curl_easy_setopt_long(easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384)
        sluice_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        sluice_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        sluice_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        // Never through a proxy from the environment (`https_proxy`, ...): the request goes
        // to the address the destination policy checked and pinned, nowhere else.
        sluice_curl_easy_setopt_string(easy, CURLOPT_NOPROXY, "*")
        sluice_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // No CURLOPT_PIPEWAIT: waiting for a connection that might multiplex lets one
        // black-holed HTTP/1.1 request stall every other transfer to the same host.
        sluice_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        sluice_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { sluice_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        sluice_curl_easy_setopt_write_function(easy, curlWrite)
        sluice_curl_easy_setopt_header_function(easy, curlHeader)
    }

    /// Unsets what pointed into a finished transfer (its body, header and resolve lists,
    /// itself), before the handle goes back to the pool and the transfer is freed.
    static func detach(_ easy: UnsafeMutableRawPointer) {
        for option in pointerOptions { sluice_curl_easy_setopt_pointer(easy, option, nil) }
    }

    /// The options that point into a transfer, made once (``detach(_:)`` runs per delivery).
    private static let pointerOptions = [CURLOPT_POSTFIELDS, CURLOPT_HTTPHEADER, CURLOPT_RESOLVE, CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_PRIVATE]

    /// Points curl's callbacks and private data at this transfer (see the lifetime note).
    func attach(_ pointer: UnsafeMutableRawPointer) {
        sluice_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, pointer)
        sluice_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, pointer)
        sluice_curl_easy_setopt_pointer(easy, CURLOPT_PRIVATE, pointer)
    }

    /// The outcome of a finished transfer.
    func outcome(_ code: CURLcode) -> Result<WebhookResponse, WebhookTransferError> {
        let latency = ContinuousClock.now - started
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            return .failure(WebhookTransferError(errorClass: Self.errorClass(code), message: message, latency: latency))
        }
        var status = 0
        sluice_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(
            WebhookResponse(
                status: status, retryAfter: retryAfter, location: location,
                excerpt: String(decoding: excerpt, as: UTF8.self), latency: latency))
    }

    static func errorClass(_ code: CURLcode) -> Attempt.ErrorClass {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT: return .connect
        case CURLE_COULDNT_RESOLVE_HOST: return .dns
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE:
            return .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: return .reset
        default: return .other
        }
    }

    deinit {
        bytes.deallocate()
    }
}

/// curl's write callback: keeps up to the excerpt limit, drops the rest.
private func curlWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let data, let context else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let room = transfer.excerptLimit - transfer.excerpt.count
    if room > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            transfer.excerpt.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, length)))
        }
    }
    return length
}

/// curl's resolver-start callback for pinned requests: refuses every name resolution.
private func refuseResolving(_ state: UnsafeMutableRawPointer?, _ reserved: UnsafeMutableRawPointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    1
}

/// curl's header callback: keeps `Retry-After` and `Location`.
private func curlHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    let length = size * count
    guard let data, let context else { return length }
    guard let (header, value) = ResponseHeaderLine.parse(UnsafeRawBufferPointer(start: data, count: length)) else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    switch header {
    case .retryAfter: transfer.retryAfter = value
    case .location: transfer.location = value
    }
    return length
}
