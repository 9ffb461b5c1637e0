"""`make bench-mixed`: how much of the mixed run's cost is the retry schedule's recirculation.

The mixed row of `make bench` shrinks the production retry schedule (tiers, cool-downs,
maximum age) by one factor so that within a two-minute run circuits open and close and
every dead endpoint's delivery goes round the tiers to its maximum age: about as often, per
dead delivery, as over a whole day in production (the brief's bound: attempts + a small
constant + max age / largest tier), while healthy endpoints drain their backlog in the same
minute. That is a dead endpoint's backlog at its steady state. Here the same 5,000 endpoints
(20 % slow, failing or black holes, 50 deliveries each) also run at the production schedule
itself (tiers 1 m / 10 m / 1 h, cool-down 30 s, max age 24 h): within the run no deferral
comes back, as when endpoints have only just gone bad. Rounds are interleaved: all healthy,
mixed at the scaled schedule, mixed at the production one; each ends once the
healthy endpoints are served. Prints one line per run and a
summary; the raw figures go to bench-results/mixed-schedule.json.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from run import ROOT, Sink, Tansu, build_tools, contract_schedule, dispatch_run, scaled_schedule  # noqa: E402

ENDPOINTS = 5_000
COUNT = 50 * ENDPOINTS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the three runs (about 5 minutes each)")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    # The scaled schedule as `make bench` makes it for this count (at the fast run's
    # rate of about 15,000/s; the factor is set by its 96 s floor either way).
    scaled, factor = scaled_schedule(COUNT, 15_000)
    runs = [("all healthy", "healthy", scaled), (f"mixed, schedule ×{factor:.5f}", "mixed", scaled),
            ("mixed, production schedule", "mixed", contract_schedule())]
    tools = build_tools()
    broker = Tansu()
    sink = Sink(tools)
    results = []
    try:
        for round_ in range(args.rounds):
            for label, mix, schedule in runs:
                # Each run ends once the healthy endpoints are served (their figures are
                # complete); the bad ones' deliveries are left in the run's own topics.
                report, (rss, peak, cpu) = dispatch_run(broker, args.bin, sink, COUNT, ENDPOINTS, 400, mix, scaled=schedule,
                                                        await_finish=False)
                healthy = report["healthy"]
                row = {"round": round_, "run": label, "healthy_per_s": healthy["per_s"], "p99_ms": healthy["latency_ms"]["p99"],
                       "deferred": report["deferred"], "rss_mib": rss, "peak_rss_mib": peak, "cpu_s": cpu}
                results.append(row)
                print(f"round {round_ + 1}, {label}: healthy endpoints {row['healthy_per_s']:,.0f} deliveries/s, p99 {row['p99_ms']:.0f} ms, "
                      f"{row['deferred']:,.0f} deferred, dispatch CPU {cpu:.1f} s, RSS {rss:.0f} MiB (peak {peak:.0f})", flush=True)
    finally:
        sink.stop()
        broker.stop()
    with open(os.path.join(ROOT, "bench-results", "mixed-schedule.json"), "w") as out:
        json.dump(results, out, indent=2)
    for round_ in range(args.rounds):
        base, scaled_run, production = (r for r in results if r["round"] == round_)
        print(f"round {round_ + 1}: healthy endpoints beside bad ones at {scaled_run['healthy_per_s'] / base['healthy_per_s']:.2f} of their "
              f"all-healthy rate with the scaled schedule (p99 {scaled_run['p99_ms'] / base['p99_ms']:.2f}×), "
              f"{production['healthy_per_s'] / base['healthy_per_s']:.2f} with the production one (p99 {production['p99_ms'] / base['p99_ms']:.2f}×)")


if __name__ == "__main__":
    main()
