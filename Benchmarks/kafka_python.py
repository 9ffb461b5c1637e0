"""The raw limit for Sluice's Kafka layer: the confluent-kafka Python client (the same
librdkafka) producing and consuming the same records on the same broker.

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
    print(json.dumps({
        "client": f"confluent-kafka (Python, librdkafka {libversion()[0]})",
        "records": args.count, "size": args.size, "consumed": consumed, "acknowledged": acknowledged,
        "produce_per_s": args.count / produce_seconds, "consume_per_s": consumed / consume_seconds,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
