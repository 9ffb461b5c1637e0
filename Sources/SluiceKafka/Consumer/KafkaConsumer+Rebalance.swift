import CRdKafka

/// A revocation waiting for the stage to finish with its partitions.
struct RebalanceState {
    var pendingRevocation: (partitions: [TopicPartition], cooperative: Bool)?
}

extension KafkaConsumer {
    /// Turns a rebalance event into a ``KafkaConsumerEvent``. Assignments are applied at
    /// once; revocations are remembered and applied by the next `poll`.
    func handleRebalance(_ event: OpaquePointer) throws(KafkaError) -> KafkaConsumerEvent {
        let list = rd_kafka_event_topic_partition_list(event)!
        let partitions = TopicPartitionList.partitions(list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle.pointer)) == "COOPERATIVE"
        switch rd_kafka_event_error(event) {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                try KafkaError.check(rd_kafka_incremental_assign(handle.pointer, list), "take the assigned partitions")
            } else {
                try KafkaError.check(rd_kafka_assign(handle.pointer, list), "take the assigned partitions")
            }
            forgetGaps(partitions)
            startGapsAtCommitted(partitions)
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
            return .assigned(partitions)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(handle.pointer) != 0
            rebalance.withLock { $0.pendingRevocation = (partitions, cooperative) }
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
            return .revoked(partitions, lost: lost)
        case let code:
            // librdkafka asks the application to drop its assignment on any other error.
            _ = rd_kafka_assign(handle.pointer, nil)
            forgetGaps(nil)
            return .error(KafkaError(code: code, operation: "rebalance"))
        }
    }

    /// Releases the partitions of the last revocation, if the stage has not yet.
    func applyPendingRevocation() throws(KafkaError) {
        guard let pending = rebalance.withLock({ state in
            defer { state.pendingRevocation = nil }
            return state.pendingRevocation
        }) else { return }
        // After the stage's last commit of them, which gaps not yet read again held back.
        forgetGaps(pending.partitions)
        if pending.cooperative {
            let list = TopicPartitionList.make(pending.partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            try KafkaError.check(rd_kafka_incremental_unassign(handle.pointer, list), "release revoked partitions")
        } else {
            try KafkaError.check(rd_kafka_assign(handle.pointer, nil), "release revoked partitions")
        }
    }
}
