import SluiceCore
import Testing

@testable import SluiceStage

@Suite("Retry stage")
struct RetryStageTests {
    @Test("a tier fetches at a quarter of its delay, between the stage's fetch wait and the background one")
    func fetchWait() {
        var tansu = StageSettings()
        tansu.apply(.tansu)
        #expect(RetryStage.fetchWait(delay: .seconds(60), settings: tansu) == .milliseconds(250))
        #expect(RetryStage.fetchWait(delay: .milliseconds(400), settings: tansu) == .milliseconds(100))
        #expect(RetryStage.fetchWait(delay: .milliseconds(20), settings: tansu) == .milliseconds(10), "never below the stage's own")
        #expect(RetryStage.fetchWait(delay: .seconds(3600), settings: StageSettings()) == .milliseconds(250))
    }
}
