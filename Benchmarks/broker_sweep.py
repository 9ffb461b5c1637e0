"""`make bench-broker`: the best publish -> receipt latency the broker gives, over its settings.

The end-to-end rows of `make bench` set Sluice beside the bare pipeline (Benchmarks/
bare_pipeline.py: the same two Kafka hops with nothing of Sluice) at the stages' own
settings. This asks whether other settings would let the broker itself meet the brief's
bar (p99 under 50 ms at 2,000 events/s): the bare pipeline at each point of a small grid
(fetch wait, fanout's linger, partition counts, and a fanout without transactions, which
Sluice's contract does not allow but which shows what the transactions cost), each point on
a fresh broker with nothing else running, at the full bench's sizes (3,000 events at 100/s,
then 40,000 at 2,000/s, on the same topics). Prints a line per point with the broker's
cores, then the best p99 at each rate beside the bar; the raw figures go to
bench-results/broker-sweep.json. About ten minutes.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from run import ROOT, Tansu, bare_pipeline, fmt_cores  # noqa: E402

RUNS = [(3_000, 100), (40_000, 2_000)]
BAR_MS = 50

# (label, bare_pipeline.py options); the first is the stages' own profile, as `make bench` runs it.
GRID = [
    ("the stages' settings: fetch wait 10 ms, linger 5 ms, 16 / 32 partitions", []),
    ("linger 1 ms", ["--linger-ms", "1"]),
    ("linger 20 ms", ["--linger-ms", "20"]),
    ("fetch wait 5 ms, lingers 1 ms", ["--fetch-wait-ms", "5", "--linger-ms", "1", "--publisher-linger-ms", "1"]),
    ("fetch wait 50 ms, linger 20 ms", ["--fetch-wait-ms", "50", "--linger-ms", "20"]),
    ("4 / 4 partitions", ["--event-partitions", "4", "--delivery-partitions", "4"]),
    ("1 / 1 partitions", ["--event-partitions", "1", "--delivery-partitions", "1"]),
    ("no transactions", ["--no-transactions"]),
    ("no transactions, 1 / 1 partitions", ["--no-transactions", "--event-partitions", "1", "--delivery-partitions", "1"]),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=len(GRID), help="run only the grid's first N points")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    results = []
    for label, options in GRID[:args.points]:
        broker = Tansu()
        try:
            result = bare_pipeline(broker, RUNS, 400, options)
        except SystemExit as failure:
            raise SystemExit(f"at '{label}': {failure}") from None
        finally:
            broker.stop()
        cores = result["cores"]
        results.append({"point": label, "options": options, "runs": result["runs"], "cores": cores})
        runs = "; ".join(f"{r['received']:,} of {r['count']:,} at {r['rate']:,}/s p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms"
                         for r in result["runs"])
        print(f"{label}: {runs}; {fmt_cores(cores)}", flush=True)
    for index, (count, rate) in enumerate(RUNS):
        best = min(results, key=lambda r: r["runs"][index]["p99_ms"])
        p99 = best["runs"][index]["p99_ms"]
        print(f"best p99 at {rate:,}/s ({count:,} events): {p99:.0f} ms ({best['point']}); the bar {BAR_MS} ms, "
              f"{'met' if p99 < BAR_MS else 'not met by the broker alone'}")
    with open(os.path.join(ROOT, "bench-results", "broker-sweep.json"), "w") as out:
        json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
