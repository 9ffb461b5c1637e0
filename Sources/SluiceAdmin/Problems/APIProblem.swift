import Foundation
import HTTPTypes
import OpenAPIRuntime

/// An error answer of the admin API: an RFC 9457 problem (`application/problem+json`)
/// whose `detail` says what went wrong and what to do.
///
/// Invariant: `status` is a 4xx or 5xx; `detail` never holds a secret. Thrown from a
/// handler, it becomes the response as it is (``HTTPResponseConvertible``).
///
/// ```swift
/// throw APIProblem.notFound("no endpoint ep_1; GET /v1/endpoints lists yours")
/// ```
public struct APIProblem: Error, Sendable, Equatable, CustomStringConvertible, HTTPResponseConvertible {
    public var status: Int
    /// A short name of the kind of problem, also the last part of its `type` URI.
    public var code: String
    public var title: String
    public var detail: String

    public init(status: Int, code: String, title: String, detail: String) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> APIProblem {
        APIProblem(status: 400, code: "bad-request", title: "The request is not one this API takes", detail: detail)
    }
    public static func unauthorized(_ detail: String) -> APIProblem {
        APIProblem(status: 401, code: "unauthorized", title: "An API key is needed", detail: detail)
    }
    public static func notFound(_ detail: String) -> APIProblem {
        APIProblem(status: 404, code: "not-found", title: "Not found", detail: detail)
    }
    public static func conflict(_ detail: String) -> APIProblem {
        APIProblem(status: 409, code: "conflict", title: "The object is not in a state that allows this", detail: detail)
    }
    public static func gone(_ detail: String) -> APIProblem {
        APIProblem(status: 410, code: "gone", title: "No longer available", detail: detail)
    }
    public static func unprocessable(_ detail: String) -> APIProblem {
        APIProblem(status: 422, code: "invalid", title: "The request was understood but refused", detail: detail)
    }
    public static func unavailable(_ detail: String) -> APIProblem {
        APIProblem(status: 503, code: "unavailable", title: "Not available now", detail: detail)
    }
    public static func `internal`(_ detail: String) -> APIProblem {
        APIProblem(status: 500, code: "internal", title: "Internal error", detail: detail)
    }

    /// The problem as JSON: `type`, `title`, `status`, `detail`.
    public var json: [UInt8] {
        let object: [String: Any] = ["type": "https://sluice.dev/problems/\(code)", "title": title, "status": status, "detail": detail]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data)
    }

    public var description: String { "\(status) \(title): \(detail)" }

    public var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }
    public var httpHeaderFields: HTTPFields { [.contentType: "application/problem+json"] }
    public var httpBody: HTTPBody? { HTTPBody(json) }
}
