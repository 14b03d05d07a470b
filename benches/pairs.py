#!/usr/bin/env python3
"""Interleaved timing of commands that do the same job.

    benches/pairs.py RUNS 'label=command' 'label=command' ...

Runs the commands in turn, RUNS rounds (so a noisy neighbour hits all of
them alike), each under `/usr/bin/time -f '%e %M'`, and prints for each
the median wall time and median peak RSS, and the median of the per-round
ratios of its time to the first command's (the reference). A failed run
(non-zero exit) is reported and stops the script.
"""
import shlex
import statistics
import subprocess
import sys
import tempfile


def run(cmd):
    with tempfile.NamedTemporaryFile("r") as t:
        p = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%e %M", "sh", "-c", cmd],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {cmd}\n{p.stderr.strip()}")
        secs, kib = t.read().split()[-2:]
        return float(secs), int(kib)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    jobs = [a.partition("=")[::2] for a in sys.argv[2:]]
    times = {label: [] for label, _ in jobs}
    rss = {label: [] for label, _ in jobs}
    for _ in range(runs):
        for label, cmd in jobs:
            s, k = run(cmd)
            times[label].append(s)
            rss[label].append(k)
    ref = jobs[0][0]
    for label, cmd in jobs:
        ratio = statistics.median(a / b for a, b in zip(times[label], times[ref]))
        print(f"{label:28s} {statistics.median(times[label]):7.2f} s "
              f"{statistics.median(rss[label]) / 1024:8.1f} MB  "
              f"x{ratio:5.2f} of {ref}   runs: {' '.join(f'{t:.2f}' for t in times[label])}")
        print(f"{'':28s} $ {cmd}")


if __name__ == "__main__":
    main()
