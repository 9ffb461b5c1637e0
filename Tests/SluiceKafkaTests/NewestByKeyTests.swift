import Testing

@testable import SluiceKafka

@Suite("NewestByKey: whether a record found late is superseded")
struct NewestByKeyTests {
    func record(_ key: String?, at offset: Int64, partition: Int32 = 0) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: partition, offset: offset, key: key.map { Array($0.utf8) }, value: nil)
    }

    @Test("a later record of the key supersedes; an earlier one, another key, another partition or no key does not")
    func supersedes() {
        var newest = NewestByKey()
        newest.note(record("ep_1", at: 8))
        newest.note(record("ep_1", at: 5))  // noted later, lower: the newest stays 8
        #expect(newest.supersedes(record("ep_1", at: 3)))
        #expect(newest.supersedes(record("ep_1", at: 7)))
        #expect(!newest.supersedes(record("ep_1", at: 8)), "the record itself")
        #expect(!newest.supersedes(record("ep_1", at: 9)))
        #expect(!newest.supersedes(record("ep_2", at: 3)), "another key")
        #expect(!newest.supersedes(record("ep_1", at: 3, partition: 1)), "another partition")
        newest.note(record(nil, at: 10))
        #expect(!newest.supersedes(record(nil, at: 2)), "records without a key are never superseded")
    }
}
