"""The raw limit for Sluice's Kafka layer: the confluent-kafka Python client (the same
librdkafka) producing, consuming, and consuming -> producing in transactions (batches of
500 with their offsets, as fanout does) the same records on the same broker.

    python3 Benchmarks/kafka_python.py --brokers 127.0.0.1:9092 --count 200000 --size 200
"""
import argparse
import json
import time
import uuid

from confluent_kafka import Consumer, Producer, libversion
from confluent_kafka.admin import AdminClient, NewTopic


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", default="127.0.0.1:9092")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    topic = "bench-py-" + uuid.uuid4().hex[:8]
    admin = AdminClient({"bootstrap.servers": args.brokers})
    for future in admin.create_topics([NewTopic(topic, args.partitions, 1)]).values():
        future.result(10)

    producer = Producer({"bootstrap.servers": args.brokers, "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    payload = b"x" * args.size
    acknowledged = 0

    def on_delivery(err, _msg):
        nonlocal acknowledged
        if err is None:
            acknowledged += 1

    start = time.perf_counter()
    for i in range(args.count):
        while True:
            try:
                producer.produce(topic, payload, key=f"k{i % 1024}", on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    produce_seconds = time.perf_counter() - start

    consumer = Consumer({
        "bootstrap.servers": args.brokers, "group.id": "bench-" + topic, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "fetch.wait.max.ms": 10,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([topic])
    consumed, first = 0, None
    deadline = time.time() + 120
    while consumed < args.count and time.time() < deadline:
        for message in consumer.consume(10_000, 0.1):
            if message.error() is None:
                first = first or time.perf_counter()
                consumed += 1
    consume_seconds = time.perf_counter() - first if first else float("inf")
    consumer.close()
    transformed, transform_seconds = consume_transact_produce(args, admin, topic)
    print(json.dumps({
        "client": f"confluent-kafka (Python, librdkafka {libversion()[0]})",
        "records": args.count, "size": args.size, "consumed": consumed, "acknowledged": acknowledged,
        "produce_per_s": args.count / produce_seconds, "consume_per_s": consumed / consume_seconds,
        "consume_produce_per_s": transformed / transform_seconds,
    }, sort_keys=True))


def consume_transact_produce(args, admin, source):
    """Reads `source` in batches of up to 500 and writes each record to another topic, one
    transaction per batch with the consumed offsets. Returns (records, seconds)."""
    # The same shape as the Swift side's loop: a fresh 16-partition input, 32-partition output.
    output = source + "-out"
    source = source + "-in"
    for future in admin.create_topics([NewTopic(source, 16, 1), NewTopic(output, 32, 1)]).values():
        future.result(10)
    plain = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5})
    for i in range(args.count):
        while True:
            try:
                plain.produce(source, b"x" * args.size, key=f"bench-{i % 32}")
                break
            except BufferError:
                plain.poll(0.01)
    plain.flush(60)
    consumer = Consumer({
        "bootstrap.servers": args.brokers, "group.id": "bench-cp-" + source, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "fetch.wait.max.ms": 10,
        "isolation.level": "read_committed",
    })
    producer = Producer({"bootstrap.servers": args.brokers, "transactional.id": "bench-cp-" + source, "linger.ms": 5})
    producer.init_transactions(30)
    consumer.subscribe([source])
    done, first = 0, None
    deadline = time.time() + 300
    while done < args.count and time.time() < deadline:
        batch = [m for m in consumer.consume(500, 0.1) if m.error() is None]
        if not batch:
            continue
        first = first or time.perf_counter()
        producer.begin_transaction()
        for message in batch:
            while True:
                try:
                    producer.produce(output, message.value(), key=message.key())
                    break
                except BufferError:
                    producer.poll(0.01)
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        done += len(batch)
    seconds = time.perf_counter() - first if first else float("inf")
    consumer.close()
    return done, seconds


if __name__ == "__main__":
    main()
