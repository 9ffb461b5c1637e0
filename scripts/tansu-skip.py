"""Reproduces Tansu skipping a batch in a fetch, outside Sluice (README, Kafka layer notes).

Starts the project's Tansu (`.deps/bin/tansu`, memory storage) on a free loopback port,
has PRODUCERS producers (every other one transactional) write small batches into one
partition at once while a consumer tails it, then reads the partition again and prints
the offsets the tail never got. Measured with Tansu 0.6.0 and librdkafka 2.16: 12
producers, 7-24 of 9,000 records missed with read_uncommitted, 0-3 with read_committed;
4 producers, none.

    python3 scripts/tansu-skip.py [read_uncommitted|read_committed] [PRODUCERS]
"""
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".deps", "py"))
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BATCHES = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def produce(bootstrap, index):
    transactional = index % 2 == 0
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 1}
    if transactional:
        conf["transactional.id"] = f"skip-{index}"
    producer = Producer(conf)
    if transactional:
        producer.init_transactions(30)
    for n in range(BATCHES):
        if transactional:
            producer.begin_transaction()
        for k in range(1 + n % 4):
            producer.produce("t", value=f"{index}-{n}-{k}".encode(), partition=0)
        if transactional:
            producer.commit_transaction(30)
        else:
            producer.flush(30)


def main():
    isolation = sys.argv[1] if len(sys.argv) > 1 else "read_uncommitted"
    producers = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    url = f"tcp://127.0.0.1:{free_port()}"
    broker = subprocess.Popen([os.path.join(ROOT, ".deps", "bin", "tansu"), "broker", "--listener-url", url,
                               "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bootstrap = url.removeprefix("tcp://")
        admin = AdminClient({"bootstrap.servers": bootstrap})
        deadline = time.time() + 30
        while True:
            try:
                admin.list_topics(timeout=1)
                break
            except Exception:
                if time.time() > deadline:
                    raise SystemExit("Tansu did not start; run `make setup` first")
                time.sleep(0.2)
        for future in admin.create_topics([NewTopic("t", 1, 1)]).values():
            future.result()
        seen, stop = set(), threading.Event()

        def tail():
            consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tail", "isolation.level": isolation,
                                 "fetch.wait.max.ms": 10, "enable.auto.commit": False})
            consumer.assign([TopicPartition("t", 0, 0)])
            while not stop.is_set():
                message = consumer.poll(0.05)
                if message is not None and not message.error():
                    seen.add(message.offset())
            consumer.close()

        tailer = threading.Thread(target=tail)
        tailer.start()
        writers = [threading.Thread(target=produce, args=(bootstrap, i)) for i in range(producers)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "all", "isolation.level": "read_uncommitted",
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition("t", 0, 0)])
        expected = sum(1 + n % 4 for n in range(BATCHES)) * producers
        everything, deadline = set(), time.time() + 60
        while len(everything) < expected and time.time() < deadline:
            message = consumer.poll(0.1)
            if message is not None and not message.error():
                everything.add(message.offset())
        consumer.close()
        # The tail has read past the last record (bounded), then stops.
        deadline = time.time() + 60
        while max(seen, default=-1) < max(everything, default=0) and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        tailer.join()
        missed = sorted(everything - seen)
        print(f"{isolation}, {producers} producers: {len(everything)} records written, the tail missed {len(missed)}"
              + (f": offsets {missed[:30]}" if missed else ""))
    finally:
        broker.terminate()
        broker.wait(30)


if __name__ == "__main__":
    main()
