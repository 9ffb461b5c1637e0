import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

@Suite("Standard Webhooks signing")
struct WebhookSigningTests {
    // The Standard Webhooks specification's published example.
    let specSecret = try! Secret(encoded: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    let specID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let specTimestamp: Int64 = 1_614_265_330
    let specBody = Array(#"{"test": 2432232314}"#.utf8)

    @Test("signs the specification's example exactly as published")
    func specVector() {
        let signature = WebhookSigner.signature(id: specID, timestamp: specTimestamp, body: specBody, secret: specSecret)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("during a rotation both signatures are sent, space-separated, and each verifies alone")
    func rotation() throws {
        let old = Secret.generate()
        let headers = WebhookSigner.headers(id: specID, timestamp: specTimestamp, body: specBody, secrets: [specSecret, old])
        let parts = try #require(headers["webhook-signature"]).split(separator: " ")
        #expect(parts.count == 2)
        #expect(parts.allSatisfy { $0.hasPrefix("v1,") })
        #expect(headers["webhook-id"] == specID)
        #expect(headers["webhook-timestamp"] == "1614265330")
        let now = Date(timeIntervalSince1970: Double(specTimestamp))
        for secret in [specSecret, old] {
            try WebhookVerifier(secrets: [secret]).verify(
                id: specID, timestamp: "1614265330", signatureHeader: headers["webhook-signature"]!, body: specBody, now: now)
        }
    }

    @Test("the header fields a request carries are the three headers, in name order, with one or two signatures")
    func fieldsInOrder() {
        for secrets in [[specSecret], [specSecret, Secret.generate()]] {
            let fields = WebhookSigner.fields(id: specID, timestamp: specTimestamp, body: specBody, secrets: secrets)
            #expect(fields.map(\.name) == ["webhook-id", "webhook-signature", "webhook-timestamp"])
            let headers = WebhookSigner.headers(id: specID, timestamp: specTimestamp, body: specBody, secrets: secrets)
            #expect(Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.value) }) == headers)
            #expect(fields[1].value.split(separator: " ").count == secrets.count)
        }
        let one = WebhookSigner.fields(id: specID, timestamp: specTimestamp, body: specBody, secrets: [specSecret])
        #expect(one[1].value == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("the verifier refuses what a receiver must refuse, saying why")
    func refusals() {
        let verifier = WebhookVerifier(secrets: [specSecret])
        let good = WebhookSigner.signature(id: specID, timestamp: specTimestamp, body: specBody, secret: specSecret)
        let at = Date(timeIntervalSince1970: Double(specTimestamp))
        func verify(id: String? = nil, ts: String = "1614265330", header: String? = nil, body: [UInt8]? = nil, now: Date? = nil) -> VerificationError? {
            do throws(VerificationError) {
                try verifier.verify(id: id ?? specID, timestamp: ts, signatureHeader: header ?? good, body: body ?? specBody, now: now ?? at)
                return nil
            } catch { return error }
        }
        #expect(verify() == nil)
        #expect(verify(body: Array(#"{"test": 2432232315}"#.utf8)) == .mismatch)
        #expect(verify(id: "msg_other") == .mismatch)
        #expect(verify(header: "v1a," + good.dropFirst(3)) == .noSignature)
        #expect(verify(header: "v1,AAAA " + good) == nil)
        #expect(verify(ts: "yesterday") == .badTimestamp("yesterday"))
        #expect(verify(now: at.addingTimeInterval(301)) == .tooOld(seconds: 301))
        #expect(verify(now: at.addingTimeInterval(-301)) == .inTheFuture(seconds: 301))
        #expect(verify(now: at.addingTimeInterval(299)) == nil)
        #expect(WebhookVerifier(secrets: [Secret.generate()]).verifyResult(specID, good, specBody, at) == .mismatch)
    }

    @Test("the block-level HMAC equals OpenSSL's HMAC for any key (empty, short, one block, longer) and any split of the message")
    func hmacMatchesOpenSSL() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...130), Gen.uint8().array(of: 0...300), Gen.int(in: 0...300)) { key, message, cut in
            let split = min(cut, message.count)
            let reference = WebhookSigner.referenceHMACSHA256(key: key, data: message)
            #expect(WebhookSigner.hmacSHA256(key: key, data: message) == reference)
            #expect(WebhookSigner.hmacSHA256(key: key, head: Array(message[..<split]), tail: Array(message[split...])) == reference)
        }
    }

    @Test("sign then verify round-trips for any id, body and secret")
    func roundTrip() async {
        await propertyCheck(input: Gen.letterOrNumber.string(of: 1...40), Gen.uint8().array(of: 0...500), Gen.uint8().array(of: 24...64)) { id, body, key in
            let secret = try! Secret(bytes: key)
            let signature = WebhookSigner.signature(id: id, timestamp: 1_700_000_000, body: body, secret: secret)
            let verifier = WebhookVerifier(secrets: [secret])
            #expect(verifier.verifyResult(id, signature, body, Date(timeIntervalSince1970: 1_700_000_000), timestamp: "1700000000") == nil)
            var tampered = body
            tampered.append(1)
            #expect(verifier.verifyResult(id, signature, tampered, Date(timeIntervalSince1970: 1_700_000_000), timestamp: "1700000000") == .mismatch)
        }
    }
}

extension WebhookVerifier {
    func verifyResult(_ id: String, _ header: String, _ body: [UInt8], _ now: Date, timestamp: String = "1614265330") -> VerificationError? {
        do throws(VerificationError) {
            try verify(id: id, timestamp: timestamp, signatureHeader: header, body: body, now: now)
            return nil
        } catch { return error }
    }
}
