"""The end-to-end latency's raw limit: Sluice's two Kafka hops with nothing of Sluice in them.

The same shape as the end-to-end run (`Benchmarks/run.py`, `end_to_end`), on the same broker,
with confluent-kafka (the same librdkafka) and the stages' Tansu profile as the bench runs it
(fetch wait 10 ms, read_uncommitted, linger 5 ms; the publisher's linger 2 ms):

- a publisher writes `count` records at `rate` per second (0: at once) to a fresh
  16-partition "events" topic, keyed by one of 32 tenants, each carrying its publish time;
- a "fanout" loop consumes them and, per poll, writes one record per event to a fresh
  32-partition "deliveries" topic in one transaction with the consumed offsets (begin,
  produce, send offsets, commit: what the brief asks of fanout);
- a "dispatch" consumer reads the deliveries and notes when each arrives.

It prints JSON: per run, publish -> received p50 and p99 (ms), and the broker's CPU is
the caller's to measure. Runs share their topics, as the end-to-end runs do (Tansu's cost
per fetch grows with what a partition holds: README, Benchmarks).

The options change those settings for `make bench-broker` (Benchmarks/broker_sweep.py),
which looks for the broker's best over them: the fetch wait, the lingers, the partition
counts, and a "fanout" that produces without a transaction.

    PYTHONPATH=.deps/py python3 Benchmarks/bare_pipeline.py --brokers 127.0.0.1:9092 --runs 1000@100,10000@2000
"""
import argparse
import json
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition, OFFSET_END
from confluent_kafka.admin import AdminClient, NewTopic

from hops import percentile  # Benchmarks/ (this script's folder)

CONSUMER = {"isolation.level": "read_uncommitted", "enable.auto.commit": False}


def assign_end(consumer, topic, partitions):
    consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in range(partitions)])


class Fanout(threading.Thread):
    """Consume -> one transaction per poll (records and offsets), until stopped; without
    `transactions`, an idempotent producer writes each poll's records and nothing commits."""

    def __init__(self, brokers, events, deliveries, group, settings):
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": brokers, "group.id": group, **CONSUMER,
                                  "fetch.wait.max.ms": settings.fetch_wait_ms})
        assign_end(self.consumer, events, settings.event_partitions)
        self.transactions = not settings.no_transactions
        identity = {"transactional.id": group} if self.transactions else {"enable.idempotence": True}
        self.producer = Producer({"bootstrap.servers": brokers, **identity, "linger.ms": settings.linger_ms})
        if self.transactions:
            self.producer.init_transactions(30)
        self.deliveries = deliveries
        self.running = True
        self.error = None

    def run(self):
        try:
            while self.running:
                # A batch is what one poll finds (as fanout's): consume(n, timeout) would hold
                # what it has until n arrive or the timeout passes.
                first = self.consumer.poll(0.1)
                if first is None:
                    continue
                batch = [m for m in [first] + self.consumer.consume(1999, 0) if m.error() is None]
                if not batch:
                    continue
                if self.transactions:
                    self.producer.begin_transaction()
                offsets = {}
                for m in batch:
                    self.producer.produce(self.deliveries, m.value(), key=m.key())
                    offsets[(m.topic(), m.partition())] = m.offset() + 1
                if not self.transactions:
                    self.producer.poll(0)
                    continue
                self.producer.send_offsets_to_transaction(
                    [TopicPartition(t, p, o) for (t, p), o in offsets.items()], self.consumer.consumer_group_metadata())
                self.producer.commit_transaction()
            self.producer.flush(30)
        except KafkaException as error:
            self.error = str(error)


class Receiver(threading.Thread):
    """Notes each delivery's arrival time by its publish time."""

    def __init__(self, brokers, deliveries, settings):
        super().__init__(daemon=True)
        self.consumer = Consumer({"bootstrap.servers": brokers, "group.id": f"{deliveries}-receiver", **CONSUMER,
                                  "fetch.wait.max.ms": settings.fetch_wait_ms})
        assign_end(self.consumer, deliveries, settings.delivery_partitions)
        self.latencies = []
        self.running = True

    def run(self):
        while self.running:
            m = self.consumer.poll(0.05)
            if m is not None and m.error() is None:
                self.latencies.append((time.time() - json.loads(m.value())["t"]) * 1000)


def publish(producer, topic, count, rate, size):
    started = time.time()
    pad = "x" * max(0, size - 40)
    for n in range(count):
        if rate > 0:
            wait = started + n / rate - time.time()
            if wait > 0:
                time.sleep(wait)
        producer.produce(topic, json.dumps({"t": time.time(), "d": pad}).encode(), key=f"bench-{n % 32}".encode())
        producer.poll(0)
    producer.flush(60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--runs", required=True, help="COUNT@RATE[,…] (rate 0: at once)")
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--fetch-wait-ms", type=int, default=10, help="both consumers' fetch.wait.max.ms (the stages' Tansu profile: 10)")
    parser.add_argument("--linger-ms", type=float, default=5, help="the fanout producer's linger.ms (the bench's stages: 5)")
    parser.add_argument("--publisher-linger-ms", type=float, default=2, help="the publisher's linger.ms")
    parser.add_argument("--event-partitions", type=int, default=16, help="the events topic's partitions (topology/: 16)")
    parser.add_argument("--delivery-partitions", type=int, default=32, help="the deliveries topic's partitions (topology/: 32)")
    parser.add_argument("--no-transactions", action="store_true", help="fanout produces without a transaction (not Sluice's contract)")
    args = parser.parse_args()
    stamp = time.time_ns()
    events, deliveries = f"bare-{stamp}-events", f"bare-{stamp}-deliveries"
    admin = AdminClient({"bootstrap.servers": args.brokers})
    topics = [NewTopic(events, args.event_partitions, 1), NewTopic(deliveries, args.delivery_partitions, 1)]
    for future in admin.create_topics(topics).values():
        future.result()
    time.sleep(1)  # metadata of the new topics reaches every client
    fanout, receiver = Fanout(args.brokers, events, deliveries, f"bare-{stamp}", args), Receiver(args.brokers, deliveries, args)
    fanout.start()
    receiver.start()
    producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": args.publisher_linger_ms, "enable.idempotence": True})
    producer.produce(events, json.dumps({"t": time.time()}).encode(), key=b"warm-up")  # metadata and producer id first
    producer.flush(30)
    deadline = time.time() + 30
    while not receiver.latencies and time.time() < deadline:
        time.sleep(0.05)
    results = []
    for run in args.runs.split(","):
        count, rate = (int(x) for x in run.split("@"))
        receiver.latencies = []
        publish(producer, events, count, rate, args.size)
        deadline = time.time() + 120
        while len(receiver.latencies) < count and time.time() < deadline and fanout.error is None:
            time.sleep(0.1)
        latencies = sorted(receiver.latencies)
        results.append({"count": count, "rate": rate, "received": len(latencies),
                        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)})
    fanout.running = receiver.running = False
    fanout.join(10)
    receiver.join(10)
    print(json.dumps({"runs": results, "error": fanout.error}))


if __name__ == "__main__":
    main()
