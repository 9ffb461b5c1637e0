import SluiceCore

/// One POST of a webhook, as the HTTP layer sends it.
///
/// Invariant: `resolve`, when set, is `host:port:address` for the URL's host and port,
/// and the connection goes to that address only (the one the ``DestinationPolicy``
/// checked), whatever DNS says by then.
///
/// ```swift
/// let request = WebhookRequest(url: "https://hooks.acme.test/in", headers: signed, body: body,
///                              timeout: .seconds(15), resolve: target.curlResolveEntry)
/// ```
public struct WebhookRequest: Sendable {
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var timeout: Duration
    public var resolve: String?
    /// How much of the response body to keep (the rest is read and dropped).
    public var excerptLimit: Int

    public init(
        url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration = .seconds(15),
        resolve: String? = nil, excerptLimit: Int = 1024
    ) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.resolve = resolve
        self.excerptLimit = excerptLimit
    }
}

/// What an endpoint answered.
public struct WebhookResponse: Sendable, Equatable {
    public var status: Int
    /// The `Retry-After` header, if any.
    public var retryAfter: String?
    /// The `Location` header of a redirect (never followed).
    public var location: String?
    /// The first `excerptLimit` bytes of the body, as text.
    public var excerpt: String
    /// From the start of the transfer to the end of the response.
    public var latency: Duration
}

/// Why a POST produced no response.
///
/// ``errorClass`` maps it to the attempt record's class; ``message`` is curl's. A request
/// the client gave up because it was shut down is ``isAbandoned``: the endpoint did not
/// fail, so no attempt should be recorded against it.
///
/// ```swift
/// if case .failure(let error) = result, error.isAbandoned { /* leave it to the next owner */ }
/// ```
public struct WebhookTransferError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errorClass: Attempt.ErrorClass
    public var message: String
    public var latency: Duration
    /// The client shut down before the answer (or before the request was sent).
    public internal(set) var isAbandoned = false

    public init(errorClass: Attempt.ErrorClass, message: String, latency: Duration) {
        self.errorClass = errorClass
        self.message = message
        self.latency = latency
    }

    /// A request given up at ``CurlMultiClient/shutdown()``.
    static func abandoned(_ message: String, latency: Duration) -> WebhookTransferError {
        var error = WebhookTransferError(errorClass: .other, message: message, latency: latency)
        error.isAbandoned = true
        return error
    }

    public var description: String { "\(errorClass.rawValue): \(message)" }
}
