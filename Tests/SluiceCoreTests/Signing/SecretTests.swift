import Foundation
import Logging
import Testing

@testable import SluiceCore

@Suite("Secrets and secrets at rest")
struct SecretTests {
    @Test("whsec_ secrets parse, generate and encode")
    func parsing() throws {
        let secret = Secret.generate()
        #expect(secret.bytes.count == 32)
        #expect(try Secret(encoded: secret.encoded) == secret)
        #expect(secret.encoded.hasPrefix("whsec_"))
        #expect(throws: SecretError.missingPrefix) { try Secret(encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: SecretError.notBase64) { try Secret(encoded: "whsec_***") }
        #expect(throws: SecretError.wrongLength(3)) { try Secret(encoded: "whsec_AAAA") }
        #expect(throws: SecretError.wrongLength(65)) { try Secret(bytes: [UInt8](repeating: 1, count: 65)) }
    }

    @Test("a secret never prints, and a log line with one cannot contain it")
    func redaction() {
        let secret = Secret.generate()
        let base64 = String(secret.encoded.dropFirst(6))
        #expect(!"\(secret)".contains(base64))
        #expect(!String(reflecting: secret).contains(base64))
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains(base64))
        #expect(!"\([secret])".contains(base64))

        let lines = LockedLines()
        var logger = Logger(label: "t") { JSONLogHandler(label: $0, level: .trace, sink: lines.append) }
        logger.logLevel = .trace
        logger.info("created endpoint with \(secret)", metadata: ["secret": "\(secret)", "also": .stringConvertible(secret)])
        #expect(lines.all.count == 1)
        #expect(!lines.all.joined().contains(base64))
    }

    @Test("SecretBox seals and opens; the ciphertext is bound to its endpoint and key")
    func secretBox() throws {
        let key = SecretBox.Key.generateBase64()
        let box = try SecretBox(masterKeyBase64: key)
        let secret = Secret.generate()
        let sealed = box.seal(secret, endpointID: "ep_1")
        #expect(sealed.hasPrefix("sbox1:\(box.current.id):"))
        #expect(!sealed.contains(secret.encoded))
        #expect(try box.open(sealed, endpointID: "ep_1") == secret)
        #expect(box.seal(secret, endpointID: "ep_1") != sealed, "fresh nonce each time")
        #expect(throws: SecretBoxError.authenticationFailed) { try box.open(sealed, endpointID: "ep_2") }
        var tampered = Array(sealed.utf8)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBoxError.self) { try box.open(String(decoding: tampered, as: UTF8.self), endpointID: "ep_1") }
        #expect(throws: SecretBoxError.malformed) { try box.open("plain", endpointID: "ep_1") }

        // Rotation: a new master key opens old records through `previous`, seals with the new one.
        let rotated = try SecretBox(masterKeyBase64: SecretBox.Key.generateBase64(), previousBase64: [key])
        #expect(try rotated.open(sealed, endpointID: "ep_1") == secret)
        #expect(rotated.seal(secret, endpointID: "ep_1").contains(rotated.current.id))
        let forgotten = try SecretBox(masterKeyBase64: SecretBox.Key.generateBase64())
        #expect(throws: SecretBoxError.unknownKey(box.current.id)) { try forgotten.open(sealed, endpointID: "ep_1") }
        #expect(throws: SecretBoxError.badMasterKey) { try SecretBox(masterKeyBase64: "c2hvcnQ=") }
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var append: @Sendable (String) -> Void { { [self] line in lock.lock(); lines.append(line); lock.unlock() } }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
