import Foundation
import Testing

@testable import SluiceAdmin

@Suite("RFC 3339 dates")
struct RFC3339DateTranscoderTests {
    @Test("reads whole and fractional seconds, Z or an offset, lowercase t and z; writes whole seconds in UTC; refuses the rest")
    func forms() throws {
        let transcoder = RFC3339DateTranscoder()
        let base = Date(timeIntervalSince1970: 1_764_583_200)  // 2025-12-01T10:00:00Z
        #expect(try transcoder.decode("2025-12-01T10:00:00Z") == base)
        #expect(try transcoder.decode("2025-12-01t10:00:00z") == base)
        #expect(try transcoder.decode("2025-12-01T12:00:00+02:00") == base)
        #expect(abs(try transcoder.decode("2025-12-01T10:00:00.250Z").timeIntervalSince(base) - 0.25) < 0.001)
        #expect(try transcoder.encode(base) == "2025-12-01T10:00:00Z")
        for bad in ["yesterday", "2025-12-01", "", "2025-13-01T10:00:00Z"] {
            #expect(throws: DecodingError.self) { try transcoder.decode(bad) }
        }
    }
}
