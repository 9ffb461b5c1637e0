"""Where an end-to-end delivery's time goes: a tail of `<prefix>deliveries`, reading with the
stages' isolation (`read_uncommitted`, as the bench runs them on Tansu: README, "Tansu"), that
notes, for each delivery, when fanout produced it (the record's create time, set by
librdkafka at produce) and when it became visible to dispatch's kind of reader (the moment this
tail receives it: the broker's append, plus one fetch of this tail's own). With the
publish time (the bench's publisher) and the receipt time (the sink) that splits publish ->
receipt into three hops:

- fanout: publish -> produced (fanout's fetch wait, the cycle in progress, its catch-up of
  sluice.endpoints, encoding);
- commit: produced -> visible (the append; under read_committed it would also wait for the
  transaction's commit; plus this tail's fetch wait, at most `FETCH_WAIT_MS`);
- dispatch: visible -> received (dispatch's fetch wait, its queueing, the HTTP request;
  less this tail's fetch wait).

Run by Benchmarks/run.py beside the end-to-end runs; standalone:

    PYTHONPATH=.deps/py python3 Benchmarks/hops.py --brokers 127.0.0.1:9092 --topic bench-x.deliveries --out hops.json --seconds 60
"""
import argparse
import json
import threading
import time

FETCH_WAIT_MS = 10  # the stages' own on Tansu: a shorter wait loads the broker the run measures


def percentile(ordered, q):
    """The value at quantile `q` (0.5, 0.99) of the sorted list `ordered`; NaN when empty."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class DeliveryTail:
    """Reads `topic` from its end (every partition, `isolation`) on a thread until
    `stop()`; `seen` maps an event id to (create time in s, seen time in s) of its first
    delivery."""

    def __init__(self, brokers, topic, isolation="read_uncommitted"):
        from confluent_kafka import Consumer, TopicPartition, OFFSET_END

        self.seen = {}
        self.consumer = Consumer({
            "bootstrap.servers": brokers, "group.id": f"bench-hops-{time.time_ns()}", "enable.auto.commit": False,
            "isolation.level": isolation, "fetch.wait.max.ms": FETCH_WAIT_MS,
        })
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            # poll, not consume(n, timeout): that one holds what it has until n arrive or the
            # timeout passes, which would add up to the timeout to every "seen" time.
            message = self.consumer.poll(0.05)
            now = time.time()
            if message is None or message.error() is not None or message.value() is None:
                continue
            try:
                event_id = json.loads(message.value())["event_id"]
            except (ValueError, KeyError, TypeError):
                continue
            kind, created_ms = message.timestamp()
            if event_id not in self.seen and kind != 0:
                self.seen[event_id] = (created_ms / 1000, now)

    def stop(self):
        self.running = False
        self.thread.join(10)
        self.consumer.close()
        return self.seen


def split(sent, seen, received):
    """Per-hop p50/p99 in ms over the events with all four times: `sent` and `received` map
    an event id to seconds, `seen` to (created, visible) seconds."""
    hops = {"fanout": [], "commit": [], "dispatch": []}
    for event_id, published in sent.items():
        if event_id not in seen or event_id not in received:
            continue
        created, visible = seen[event_id]
        hops["fanout"].append((created - published) * 1000)
        hops["commit"].append((visible - created) * 1000)
        hops["dispatch"].append((received[event_id] - visible) * 1000)
    result = {"events": len(hops["fanout"])}
    for name, values in hops.items():
        values.sort()
        result[name] = {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    tail = DeliveryTail(args.brokers, args.topic)
    time.sleep(args.seconds)
    with open(args.out, "w") as f:
        json.dump(tail.stop(), f)


if __name__ == "__main__":
    main()
