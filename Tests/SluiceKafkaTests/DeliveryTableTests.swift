import SluiceCore
import Testing

@testable import SluiceKafka

@Suite("Delivery table")
struct DeliveryTableTests {
    let metadata = KafkaRecordMetadata(topic: "t", partition: 0, offset: 7)

    @Test("a report that arrives before the waiter is kept until it waits")
    func reportFirst() async throws {
        var table = DeliveryTable()
        let id = table.register()
        #expect(table.inFlight == 1)
        #expect(table.complete(id, with: .success(metadata)) == nil)
        #expect(table.inFlight == 0)
        let outcome = await withCheckedContinuation { continuation in
            if let outcome = table.wait(id, continuation: continuation) { continuation.resume(returning: outcome) }
        }
        #expect(try outcome.get() == metadata)
    }

    @Test("an outcome already in is taken without waiting, once; one still pending is not")
    func takeOutcome() throws {
        var table = DeliveryTable()
        let (done, pending) = (table.register(), table.register())
        _ = table.complete(done, with: .success(metadata))
        #expect(try table.takeOutcome(done)?.get() == metadata)
        #expect(table.takeOutcome(done) == nil, "taken: forgotten")
        #expect(table.takeOutcome(pending) == nil)
        #expect(table.inFlight == 1)
        _ = table.complete(pending, with: .success(metadata))
        #expect(try table.takeOutcome(pending)?.get() == metadata, "still reported after a take that found it pending")
    }

    @Test("a waiter that arrives first is handed back to resume when the report comes")
    func waiterFirst() async {
        var table = DeliveryTable()
        let id = table.register()
        let outcome = await withCheckedContinuation { continuation in
            #expect(table.wait(id, continuation: continuation) == nil)
            let failure = KafkaError(kind: .timedOut, message: "x", operation: "deliver")
            if case .resume(let waiter, let outcome) = table.complete(id, with: .failure(failure)) { waiter.resume(returning: outcome) }
        }
        #expect(throws: KafkaError.self) { try outcome.get() }
    }

    @Test("a grouped record's report goes to its group, which reports once: at the last success or the first failure")
    func grouped() {
        let reports = Locked<[Result<Void, KafkaError>]>([])
        let group = AcknowledgementGroup(count: 2) { result in reports.withLock { $0.append(result) } }
        var table = DeliveryTable()
        let (a, b) = (table.register(group: group), table.register(group: group))
        guard case .group(let first, let outcome) = table.complete(a, with: .success(metadata)) else {
            Issue.record("a grouped record's report must go to its group")
            return
        }
        first.record(outcome)
        #expect(reports.withLock { $0.isEmpty })
        if case .group(let second, let outcome) = table.complete(b, with: .success(metadata)) { second.record(outcome) }
        #expect(reports.withLock { $0.count } == 1)
        #expect(table.inFlight == 0)

        let failures = Locked(0)
        let failing = AcknowledgementGroup(count: 3) { result in if case .failure = result { failures.withLock { $0 += 1 } } }
        failing.record(.failure(KafkaError(kind: .timedOut, message: "x", operation: "deliver")))
        failing.record(.success(metadata))
        failing.record(.failure(KafkaError(kind: .timedOut, message: "y", operation: "deliver")))
        #expect(failures.withLock { $0 } == 1)

        let abandoned = Locked(0)
        let taken = AcknowledgementGroup(count: 1) { _ in abandoned.withLock { $0 += 1 } }
        taken.abandon()
        taken.record(.success(metadata))
        #expect(abandoned.withLock { $0 } == 0)
    }

    @Test("a cancelled registration leaves nothing in flight, and ids are distinct")
    func cancel() {
        var table = DeliveryTable()
        let a = table.register()
        let b = table.register()
        #expect(a != b)
        table.cancel(a)
        #expect(table.inFlight == 1)
        #expect(table.complete(a, with: .success(metadata)) == nil)
        #expect(table.inFlight == 1)
    }
}

@Suite("Kafka errors")
struct KafkaErrorTests {
    @Test("librdkafka codes map to the kinds that drive what callers do")
    func kinds() {
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR__TRANSPORT, operation: "x").kind == .brokerUnreachable)
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR__TRANSPORT, operation: "x").isRetriable)
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, operation: "x").kind == .messageTooLarge)
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR__FENCED, operation: "x").kind == .fenced)
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR_PRODUCER_FENCED, operation: "x").kind == .fenced)
        #expect(!KafkaError(code: RD_KAFKA_RESP_ERR__FENCED, operation: "x").isRetriable)
        #expect(KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT, operation: "x").kind == .timedOut)
    }

    @Test("the description says what failed, why, and what to do")
    func description() {
        let error = KafkaError(code: RD_KAFKA_RESP_ERR__FENCED, operation: "commit the transaction")
        #expect(error.description.hasPrefix("commit the transaction failed: "))
        #expect(error.description.contains("_FENCED"))
        #expect(error.description.contains("--instance-id"))
        let missing = KafkaError(kind: .topicsMissing(["sluice.dlq"]), message: "m", operation: "check")
        #expect(missing.remedy.contains("sluice topology apply"))
        #expect(missing.remedy.contains("sluice.dlq"))
    }

    @Test("durations become librdkafka milliseconds, clamped")
    func milliseconds() {
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
        #expect(Duration.seconds(10_000_000_000).milliseconds == Int32.max)
    }
}

import CRdKafka
