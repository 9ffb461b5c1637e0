import Hummingbird

/// Gives a POST without a body an empty JSON object as its body, so routes whose body is
/// optional (`disable`, `rotate-secret`, `test`, the replay) take a bare `POST`: the OpenAPI
/// transport always hands the generated server a body, and an empty one is not JSON.
///
/// Invariant: a request that carries a body is passed on unchanged; a PATCH (whose body the
/// document requires) never gets one, so a bare PATCH is refused (400).
///
/// ```swift
/// router.add(middleware: EmptyBodyMiddleware())
/// ```
public struct EmptyBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let hasNoBody = request.headers[.contentLength] == "0" || (request.headers[.contentLength] == nil && request.headers[.transferEncoding] == nil)
        guard request.method == .post, hasNoBody else { return try await next(request, context) }
        var head = request.head
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = "2"
        return try await next(Request(head: head, body: RequestBody(buffer: ByteBuffer(string: "{}"))), context)
    }
}
