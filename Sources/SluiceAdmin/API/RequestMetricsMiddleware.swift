import Foundation
import Hummingbird
import Metrics

/// Counts the admin API's answers by method and status class and times them
/// (`sluice_admin_http_requests_total`, `sluice_admin_http_request_duration_seconds`).
///
/// Invariant: the labels are bounded: methods as sent (few), status classes (`2xx` … `5xx`),
/// never paths (they hold ids).
///
/// ```swift
/// router.add(middleware: RequestMetricsMiddleware())
/// ```
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let method = request.method.rawValue.count <= 8 ? request.method.rawValue : "other"
        let dimensions = [("method", method), ("status", "\(response.status.code / 100)xx")]
        Counter(label: "sluice_admin_http_requests_total", dimensions: dimensions).increment()
        Timer(label: "sluice_admin_http_request_duration_seconds", dimensions: [("method", method)]).record(duration: ContinuousClock.now - started)
        return response
    }
}
