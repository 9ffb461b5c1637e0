import Foundation
import SluiceCore

// The fuzz targets, shared by the libFuzzer build (`Fuzz/`, `make fuzz`, through a symlink
// to this file) and the corpus replay of `make test` (FuzzCorpusTests). Public API only, so
// the same file compiles in both places.

/// A decoder of bytes from outside, as a libFuzzer target.
///
/// Each target decodes the input; when the decoder accepts it, the value is encoded again
/// and decoded again, which must succeed too. A trap anywhere in that is the finding
/// libFuzzer reports; a failed round trip is reported as ``Outcome/roundTripFailed(_:)``
/// (the fuzzer turns it into a crash, the corpus test into an issue).
///
/// The folder names of `Fuzz/corpus/` and `Fuzz/regressions/` are the raw values.
enum FuzzTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    case delivery
    case deadLetter = "dead-letter"
    case endpoint
    case attempt
    case replayMarker = "replay-marker"
    /// `EventDecoder().decode(key:value:headers:)`; the input is framed, see ``event(_:)``.
    case event
    case retryAfter = "retry-after"
    case durationText = "duration-text"
    case timeText = "time-text"
    /// `WebhookVerifier.verify`; the input is framed, see ``webhookVerifier(_:)``.
    case webhookVerifier = "webhook-verifier"

    enum Outcome: Equatable, Sendable {
        /// The decoder refused the input (with its typed error).
        case rejected
        /// The decoder accepted it, and the round trip held.
        case accepted
        /// Accepted, but what it encodes to does not decode again (or decodes to something else).
        case roundTripFailed(String)
    }

    var description: String { rawValue }

    /// The longest input worth trying (libFuzzer's `-max_len`).
    var maxLength: Int {
        switch self {
        case .retryAfter, .durationText, .timeText: return 256
        case .webhookVerifier: return 1024
        default: return 4096
        }
    }

    /// A fixed clock, so a run is reproducible from its input alone.
    static let now = Date(timeIntervalSince1970: 1_764_064_800)  // 2025-11-25T10:00:00Z

    func run(_ bytes: [UInt8]) -> Outcome {
        switch self {
        case .delivery: return Self.wire(Delivery.self, bytes)
        case .deadLetter: return Self.wire(DeadLetter.self, bytes)
        case .endpoint: return Self.wire(Endpoint.self, bytes)
        case .attempt: return Self.wire(Attempt.self, bytes)
        case .replayMarker: return Self.wire(ReplayMarker.self, bytes)
        case .event: return Self.event(bytes)
        case .retryAfter: return Self.retryAfter(bytes)
        case .durationText: return Self.durationText(bytes)
        case .timeText: return Self.timeText(bytes)
        case .webhookVerifier: return Self.webhookVerifier(bytes)
        }
    }

    // MARK: Wire records

    /// The record's bytes as they come off a topic.
    static func wire<Record: WireRecord>(_ type: Record.Type, _ bytes: [UInt8]) -> Outcome {
        guard let record = try? Record(wireBytes: bytes) else { return .rejected }
        let again: [UInt8]
        do { again = try record.wireBytes() } catch {
            return .roundTripFailed("\(Record.kind): wireBytes() of an accepted record threw: \(brief(error))")
        }
        do { _ = try Record(wireBytes: again) } catch {
            return .roundTripFailed("\(Record.kind): its own wireBytes() do not decode: \(brief(error))")
        }
        return .accepted
    }

    /// An error or value as text short enough for a crash report (an EncodingError
    /// describes the whole value it could not encode).
    static func brief(_ thing: Any) -> String {
        let text = "\(thing)"
        return text.count <= 300 ? text : "\(text.prefix(300))… (\(text.count) characters)"
    }

    // MARK: Events

    /// A record of `sluice.events`, framed as
    /// `flags, key, 0x00, n × (header name, 0x00, header value, 0x00), value…`.
    ///
    /// Flags: bit 0 the key is null, bit 1 the value is null, bit 2 a decoder with a 64-byte
    /// limit, bit 3 adds `ce_specversion: 1.0` (binary mode) unless a header sets it;
    /// bits 4–7 the number of headers n. The value is the rest, NULs included.
    static func event(_ bytes: [UInt8]) -> Outcome {
        let input = EventInput(bytes)
        let decoder = EventDecoder(maxBytes: input.smallLimit ? 64 : 256 * 1024)
        guard case .success(let event) = decoder.decode(key: input.key, value: input.value, headers: input.headers) else {
            return .rejected
        }
        // The body is the event in structured mode: it must decode as one, to the same event.
        switch decoder.decode(key: Array(event.tenant.utf8), value: event.body, headers: [:]) {
        case .failure(let rejection):
            return .roundTripFailed("event: the body of an accepted event is rejected in structured mode: \(rejection)")
        case .success(let again):
            guard again == event else {
                return .roundTripFailed("event: the body decodes to another event: \(brief(again)) != \(brief(event))")
            }
            return .accepted
        }
    }

    struct EventInput {
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [String: [UInt8]] = [:]
        var smallLimit = false

        init(_ bytes: [UInt8]) {
            guard let flags = bytes.first else {
                key = nil
                value = nil
                return
            }
            var rest = bytes.dropFirst()
            func field() -> [UInt8] {
                let end = rest.firstIndex(of: 0) ?? rest.endIndex
                defer { rest = end < rest.endIndex ? rest[(end + 1)...] : rest[end...] }
                return Array(rest[..<end])
            }
            let keyBytes = field()
            for _ in 0..<Int(flags >> 4) {
                let name = String(decoding: field(), as: UTF8.self)
                headers[name] = field()
            }
            if flags & 0x08 != 0, headers["ce_specversion"] == nil { headers["ce_specversion"] = Array("1.0".utf8) }
            key = flags & 0x01 != 0 ? nil : keyBytes
            value = flags & 0x02 != 0 ? nil : Array(rest)
            smallLimit = flags & 0x04 != 0
        }
    }

    // MARK: Text parsers

    /// A `Retry-After` header value (as libcurl hands it over: bytes, read as UTF-8).
    static func retryAfter(_ bytes: [UInt8]) -> Outcome {
        guard let wait = RetryAfter.parse(String(decoding: bytes, as: UTF8.self), now: now) else { return .rejected }
        // What the dispatcher does with it: a TimeInterval, compared with the schedule's wait.
        _ = wait.timeInterval
        _ = wait > .zero
        return .accepted
    }

    /// A duration as an operator writes it; what it formats to must parse to the same duration.
    static func durationText(_ bytes: [UInt8]) -> Outcome {
        guard let duration = DurationText.parse(String(decoding: bytes, as: UTF8.self)) else { return .rejected }
        let text = DurationText.format(duration)
        guard let again = DurationText.parse(text) else {
            return .roundTripFailed("duration-text: \(duration) formats to '\(text)', which does not parse")
        }
        guard again == duration else {
            return .roundTripFailed("duration-text: \(duration) formats to '\(text)', which parses to \(again)")
        }
        return .accepted
    }

    /// A point in time as an operator writes it (`--since`); formatting and parsing the
    /// result again must not trap (it need not parse: a time of unix seconds 2^62 has no
    /// ISO 8601 form).
    static func timeText(_ bytes: [UInt8]) -> Outcome {
        guard let date = TimeText.parse(String(decoding: bytes, as: UTF8.self), now: now) else { return .rejected }
        _ = TimeText.parse(TimeText.format(date), now: now)
        return .accepted
    }

    // MARK: Signatures

    /// The Standard Webhooks example secret (and a second one, as during a rotation).
    static let secrets: [Secret] = [
        try! Secret(encoded: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        try! Secret(bytes: Array(0..<32)),
    ]
    /// The verifier's clock: the timestamp of the Standard Webhooks example.
    static let verifierNow = Date(timeIntervalSince1970: 1_614_265_330)

    /// What a receiver (`sluice verify`) checks, framed as
    /// `webhook-id, 0x00, webhook-timestamp, 0x00, webhook-signature, 0x00, body…`.
    ///
    /// Then the round trip: the same id, timestamp and body signed by ``WebhookSigner``
    /// must verify (for timestamps a clock can show, |t| < 10^11 s).
    static func webhookVerifier(_ bytes: [UInt8]) -> Outcome {
        var fields = bytes.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false).map(Array.init)
        while fields.count < 4 { fields.append([]) }
        let id = String(decoding: fields[0], as: UTF8.self)
        let timestamp = String(decoding: fields[1], as: UTF8.self)
        let header = String(decoding: fields[2], as: UTF8.self)
        let body = fields[3]
        let verifier = WebhookVerifier(secrets: secrets)
        let verified = (try? verifier.verify(id: id, timestamp: timestamp, signatureHeader: header, body: body, now: verifierNow)) != nil
        guard let seconds = Int64(timestamp), seconds.magnitude < 100_000_000_000 else {
            return verified ? .accepted : .rejected
        }
        let signed = WebhookSigner.headers(id: id, timestamp: seconds, body: body, secrets: secrets)
        do {
            try verifier.verify(
                id: id, timestamp: signed["webhook-timestamp"] ?? "", signatureHeader: signed["webhook-signature"] ?? "",
                body: body, now: Date(timeIntervalSince1970: TimeInterval(seconds)))
        } catch {
            return .roundTripFailed("webhook-verifier: a signature WebhookSigner made does not verify: \(error)")
        }
        return verified ? .accepted : .rejected
    }
}
