import Testing

@testable import SluiceKafka

@Suite("Topic names of delivery reports")
struct TopicNamesTests {
    @Test("a name comes back as the string it spells, the same for every report; past the capacity too")
    func names() {
        let topics = TopicNames()
        let names = (0..<(TopicNames.capacity + 5)).map { "sluice.deliveries-with-a-long-prefix.\($0)" } + ["t", "sluice.attempts"]
        for _ in 0..<2 {
            for name in names {
                #expect(name.withCString { topics.name($0) } == name)
            }
        }
        #expect("sluice.attempts-not".withCString { topics.name($0) } == "sluice.attempts-not", "a name that extends a known one is its own")
    }
}
