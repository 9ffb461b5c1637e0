import Foundation
import OpenAPIRuntime

/// Dates of the admin API as RFC 3339 (what `format: date-time` means) allows them: reads
/// fractional seconds, offsets (`+02:00`) and a lowercase `t` or `z`; writes whole seconds in
/// UTC (`2026-12-01T10:00:00Z`). The runtime's default reads only the last form, so a client
/// sending `…T10:00:00.250Z` was refused.
///
/// ```swift
/// try api.registerHandlers(on: router, configuration: .init(dateTranscoder: RFC3339DateTranscoder()))
/// ```
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { date.formatted(.iso8601) }

    func decode(_ text: String) throws -> Date {
        let upper = text.uppercased()
        if let date = try? Date(upper, strategy: .iso8601) { return date }
        if let date = try? Date(upper, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        throw DecodingError.dataCorrupted(
            .init(codingPath: [], debugDescription: "'\(text.prefix(64))' is not an RFC 3339 date-time; send e.g. 2026-12-01T10:00:00Z"))
    }
}
