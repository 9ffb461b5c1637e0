import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error of a request into an `application/problem+json` answer: an
/// ``APIProblem`` as it is; a request the generated server could not decode (a bad body,
/// a missing or malformed parameter) as a 400 naming the cause; Hummingbird's own errors
/// (no such route, 405) with their status; anything else as a 500, logged.
///
/// Invariant: no error leaves the server as a bare status or a stack trace.
///
/// ```swift
/// router.add(middleware: ProblemMiddleware(logger: logger))
/// ```
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: problem(for: error, request: request))
        }
    }

    func problem(for error: any Error, request: Request) -> APIProblem {
        if let problem = error as? APIProblem { return problem }
        if let error = error as? ServerError {
            if let problem = error.underlyingError as? APIProblem { return problem }
            if error.operationInput == nil {
                return .badRequest(
                    "\(error.causeDescription): \(Self.brief(error.underlyingError)). "
                        + "The request must match GET /v1/openapi.yaml (operation \(error.operationID))")
            }
            logger.error("request failed", metadata: ["operation": "\(error.operationID)", "error": "\(error.underlyingError)"])
            return .internal("the server failed on this request; its log says why (operation \(error.operationID))")
        }
        if let error = error as? any HTTPResponseError {
            let status = Int(error.status.code)
            if status == 404 {
                return .notFound("no route \(request.method) \(request.uri.path); GET /v1/openapi.yaml lists the routes")
            }
            if status == 405 {
                return APIProblem(status: 405, code: "method-not-allowed", title: "Method not allowed", detail: "\(request.uri.path) does not take \(request.method); GET /v1/openapi.yaml lists the routes")
            }
            return APIProblem(status: status, code: "http-\(status)", title: error.status.reasonPhrase, detail: "the request was refused (\(status)); GET /v1/openapi.yaml describes the routes")
        }
        logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
        return .internal("the server failed on this request; its log says why")
    }

    static func brief(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        if case DecodingError.keyNotFound(let key, _) = error { return "\(key.stringValue) is missing" }
        if case DecodingError.typeMismatch(_, let context) = error { return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type" }
        if case DecodingError.valueNotFound(_, let context) = error { return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) is null" }
        return String("\(error)".prefix(300))
    }

    /// The HTTP answer of `problem`.
    public static func response(for problem: APIProblem) -> Response {
        Response(
            status: HTTPResponse.Status(code: problem.status), headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: problem.json)))
    }
}
