"""`make profile-dispatch`: CPU time of sluice-dispatch per delivery, and where it goes.

Two runs against a fresh Tansu and the C sink, with N and 2N deliveries to 100 fast
endpoints (`--endpoints`; on one host, or over `--hosts` loopback addresses); the
difference of dispatch's CPU time (user + system, from /proc) divided by N
is the cost of one delivery without the start-up (loading endpoints, joining the group).
The larger run is sampled with `perf record -e cpu-clock` (a software clock: this
machine's VM has no hardware counters, and Debian's valgrind 3.19 cannot run Swift 6
binaries), and the hottest symbols are printed. CPU time is noisier than instruction
counts: run it on a quiet machine and compare runs, not single figures. A third run of N
counts dispatch's system calls per delivery (`perf record -e raw_syscalls:sys_enter`),
and two more under heaptrack (N and 2N deliveries) its allocations per delivery and where
they are made: unlike CPU time, those counts barely move between runs.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from run import ROOT, Sink, Tansu, build_tools, dispatch_run, fmt_us  # noqa: E402


# x86_64 numbers of the system calls dispatch makes most (perf prints numbers only).
SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 10: "mprotect", 20: "writev", 41: "socket",
            42: "connect", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 202: "futex",
            228: "clock_gettime", 232: "epoll_wait", 233: "epoll_ctl", 281: "epoll_pwait", 286: "timerfd_settime"}


def run(broker, binaries, sink, count, endpoints, perf_out=None, watched=None, events=("-e", "cpu-clock", "-F", "999", "-g"), flags=()):
    """Dispatch drains `count` deliveries (with the retry tiers running, as in the bench);
    returns its CPU seconds at the end (`flags`: sluice-dispatch's own). With `perf_out`, the whole machine is recorded
    (`events`: sampled by default) and dispatch's pid noted in `watched` (`perf record -p`
    follows only the threads that exist when it attaches, and dispatch starts most of its
    threads later)."""
    def watch(pid):
        watched.append(pid)
        perf = subprocess.Popen(["perf", "record", "-a", *events, "-o", perf_out],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            watched.append(thread_names(pid))
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        return stop
    report, (_, _, cpu) = dispatch_run(broker, binaries, sink, count, endpoints, 400, flags=flags, watch=watch if perf_out else None)
    return cpu, report["drain_cpu_us_per_attempt"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--count", type=int, default=20_000, help="deliveries of the smaller run (the larger has twice as many)")
    parser.add_argument("--endpoints", type=int, default=100, help="the endpoints the deliveries go to")
    parser.add_argument("--hosts", type=int, default=1, help="the sink listens on 127.0.0.1 … 127.0.0.N and the endpoints spread over them")
    parser.add_argument("--dispatch-flags", default="", help="sluice-dispatch's flags for every run, separated by commas, "
                        "e.g. --dispatch-flags=--http-shards=1,--max-parked=1000")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    tools = build_tools()
    perf_out = os.path.join(ROOT, "bench-results", "perf-dispatch.data")
    trace_out = os.path.join(ROOT, "bench-results", "perf-dispatch-syscalls.data")
    broker, sink = Tansu(), None
    try:
        sink = Sink(tools, hosts=args.hosts)
        flags = tuple(flag for flag in args.dispatch_flags.split(",") if flag)
        small, small_drain = run(broker, args.bin, sink, args.count, args.endpoints, flags=flags)
        watched = []
        large, large_drain = run(broker, args.bin, sink, 2 * args.count, args.endpoints, perf_out, watched, flags=flags)
        traced = []
        run(broker, args.bin, sink, args.count, args.endpoints, trace_out, traced, events=("-e", "raw_syscalls:sys_enter"), flags=flags)
        allocated = allocations(broker, args.bin, sink, args.count, args.endpoints, flags)
    finally:
        if sink:
            sink.stop()
        broker.stop()
    per_us = (large - small) / args.count * 1e6
    print(f"sluice-dispatch: {per_us:,.0f} CPU µs per delivery ({small:.2f} CPU s for {args.count:,} deliveries, "
          f"{large:.2f} for {2 * args.count:,}; start-up cancels out); while draining, from the first attempt: "
          f"{fmt_us(small_drain)} and {fmt_us(large_drain)} µs (the second run under the profiler)")
    samples = profile(perf_out, watched[0])
    total = max(1, len(samples))
    print(f"where the larger run's CPU goes ({len(samples):,} perf cpu-clock samples of dispatch, self time):")
    for title, key, limit in (("by thread (curl's loop is sluice.http, librdkafka's are rdk:*, Swift's pool the *-qos ones)", 0, 8),
                              ("by library", 1, 8), ("by symbol", 2, 30)):
        print("  " + title + ":")
        for name, count in collections.Counter(sample[key] for sample in samples).most_common(limit):
            print(f"    {100 * count / total:5.1f}%  {name[:150]}")
    calls = syscalls(trace_out, traced[0], traced[1])
    print(f"system calls per delivery (a third run of {args.count:,}): {sum(calls.values()) / args.count:.2f}; the most made, by thread:")
    for (thread, number), count in calls.most_common(12):
        print(f"    {count / args.count:6.2f}  {thread:18} {SYSCALLS.get(number, f'#{number}')}")
    total, sites = allocated
    print(f"allocations per delivery (heaptrack, {args.count:,} and {2 * args.count:,} deliveries, the difference): "
          f"{total / args.count:.1f}; the most, by the innermost frame of Sluice's and what it called:")
    top = sites.most_common(12)
    for (_, count), site in zip(top, demangled([site for site, _ in top])):
        print(f"    {count / args.count:6.2f}  {site[:160]}")
    print(perf_out)


def allocations(broker, binaries, sink, count, endpoints, flags=()):
    """Allocation calls of dispatch under heaptrack, for `count` deliveries less those for
    2 × `count` (start-up cancels out): the total, and a Counter by call site."""
    library = os.path.join(os.path.dirname(os.path.realpath(shutil.which("heaptrack"))), "..", "lib", "heaptrack")
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for name in os.listdir(binaries):
            if name.startswith("sluice") and name != "sluice-dispatch":
                os.symlink(os.path.join(os.path.abspath(binaries), name), os.path.join(folder, name))
        # dispatch under heaptrack's preload library, keeping its pid (exec), its data
        # interpreted as heaptrack itself does; `.done` marks the data complete.
        with open(os.path.join(folder, "sluice-dispatch"), "w") as wrapper:
            wrapper.write(f"""#!/bin/sh
out="$SLUICE_HEAPTRACK_OUT"
mkfifo "$out.pipe"
( "{library}/libexec/heaptrack_interpret" < "$out.pipe" | gzip > "$out.gz"; touch "$out.done" ) &
LD_PRELOAD="{library}/libheaptrack_preload.so" DUMP_HEAPTRACK_OUTPUT="$out.pipe" exec "{os.path.abspath(binaries)}/sluice-dispatch" "$@"
""")
        os.chmod(os.path.join(folder, "sluice-dispatch"), 0o755)
        for n in (count, 2 * count):
            out = os.path.join(folder, f"heaptrack-{n}")
            os.environ["SLUICE_HEAPTRACK_OUT"] = out
            dispatch_run(broker, folder, sink, n, endpoints, 400, flags=flags)
            deadline = time.time() + 300
            while not os.path.exists(out + ".done") and time.time() < deadline:
                time.sleep(0.5)
            stacks = out + ".stacks"
            summary = subprocess.run(["heaptrack_print", "-f", out + ".gz", "-p", "0", "-a", "0", "-T", "0", "-l", "0", "-n", "0",
                                      "-F", stacks, "--flamegraph-cost-type", "allocations"], capture_output=True, text=True).stdout
            total = int(re.search(r"calls to allocation functions: (\d+)", summary).group(1))
            runs.append((total, allocation_sites(stacks)))
        os.environ.pop("SLUICE_HEAPTRACK_OUT", None)
    (small, small_sites), (large, large_sites) = runs
    large_sites.subtract(small_sites)
    return large - small, large_sites


def demangled(names):
    """Swift symbols in `names` made readable (`swift demangle`), or as they are."""
    try:
        out = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                             capture_output=True, text=True, timeout=60).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return names
    return out if len(out) == len(names) else names


def allocation_sites(stacks):
    """Allocations by site from heaptrack's flame-graph stacks: the innermost frame in
    Sluice's code and the first frame it called (libcurl, the Swift runtime, ...)."""
    sites = collections.Counter()
    for line in open(stacks, errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        frames = [re.sub(r"\s*\(.*?\)$", "", frame) for frame in stack.split(";") if frame]
        ours = [index for index, frame in enumerate(frames) if "Sluice" in frame and "Thread" not in frame]
        if not ours:
            sites["(outside Sluice's code)"] += int(count)
            continue
        index = ours[-1]
        callee = frames[index + 1] if index + 1 < len(frames) else "itself"
        sites[f"{frames[index]} -> {callee}"] += int(count)
    return sites


def thread_names(pid):
    """Thread id → name of process `pid` now. perf's own record of a thread's name can miss
    a rename that races with its start (curl's loop thread names itself once it runs)."""
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            names[int(tid)] = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        except OSError:
            pass
    return names


def syscalls(trace_out, pid, names):
    """How many times each thread of process `pid` entered each system call (by number)
    in the trace: a Counter of (thread name, number), named by `names` (tid → name)."""
    text = subprocess.run(["perf", "script", "-i", trace_out, "--pid", str(pid), "-F", "tid,event,trace"],
                          capture_output=True, text=True).stdout
    return collections.Counter((names.get(int(match.group(1)), match.group(1)), int(match.group(2)))
                               for match in re.finditer(r"^\s*(\d+) .*?NR (\d+) ", text, re.MULTILINE))


def profile(perf_out, pid):
    """(thread name, library, library: symbol) of every sample of process `pid`, its leaf
    frame (`perf report --pid` lost most of dispatch's threads; `perf script` has them all)."""
    text = subprocess.run(["perf", "script", "-i", perf_out, "--pid", str(pid), "-F", "comm,ip,sym,dso"],
                          capture_output=True, text=True).stdout
    samples, thread, leaf = [], None, None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if thread is not None and leaf is not None:
                samples.append((thread, leaf[1], f"{leaf[1]}: {leaf[0]}"))
            thread, leaf = None, None
        elif not line[0].isspace():
            thread = line.strip()
        elif leaf is None:
            match = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", line)
            if match:
                leaf = (match.group(1), match.group(2).rsplit("/", 1)[-1])
    return samples

if __name__ == "__main__":
    main()
