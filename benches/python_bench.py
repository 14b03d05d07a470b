#!/usr/bin/env python3
"""gigapix from Python beside Pillow and pyvips, one subprocess per case so
each case's peak RSS is its own.

    python benches/python_bench.py [--n 200] [--runs 5] [--jpegs DIR] IMAGE...

Cases, per IMAGE: open(p).numpy() (gigapix, Pillow, pyvips); from_numpy(a)
.resize(0.5).numpy() against pyvips new_from_array; from_numpy at 1 and 100
Mpx; and the thumbnail_buffer service loop over N in-memory JPEGs (the
JPEGs of --jpegs, else made from the first IMAGE) with peak RSS after 20
and after N images. Competing cases run in interleaved rounds; each shows
its median time and its largest peak RSS. A library that is not installed
shows as "n/a".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CASE = r'''
import json, resource, sys, time
kind, arg, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
import numpy as np
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = {}
# The libraries are imported before the clock starts: a service pays that once.
if kind.startswith("gigapix"):
    import gigapix
if kind.startswith("pyvips"):
    import pyvips
if kind.startswith("pillow"):
    from PIL import Image
t = time.perf_counter()
if kind == "gigapix-numpy":
    import gigapix; a = gigapix.Image.open(arg).numpy()
elif kind == "pillow-numpy":
    from PIL import Image; Image.MAX_IMAGE_PIXELS = None; a = np.asarray(Image.open(arg))
elif kind == "pyvips-numpy":
    import pyvips; a = pyvips.Image.new_from_file(arg).numpy()
elif kind in ("gigapix-resize", "pyvips-resize"):
    import gigapix; src = gigapix.Image.open(arg).numpy(); t = time.perf_counter()
    if kind == "gigapix-resize":
        a = gigapix.Image.from_numpy(src).resize(scale=0.5).numpy()
    else:
        import pyvips; a = pyvips.Image.new_from_array(src).resize(0.5).numpy()
elif kind == "gigapix-from_numpy":
    import gigapix; mpx = int(arg); src = np.zeros((1000, mpx * 1000), np.uint8)
    t = time.perf_counter()
    for _ in range(1000):
        im = gigapix.Image.from_numpy(src)
    a = src
    out["per_call_s"] = (time.perf_counter() - t) / 1000
elif kind in ("gigapix-thumbs", "pyvips-thumbs"):
    import glob, os
    files = sorted(glob.glob(os.path.join(arg, "*.jpg")))
    blobs = [open(f, "rb").read() for f in files]
    blobs = (blobs * (n // max(len(blobs), 1) + 1))[:n]
    if kind == "gigapix-thumbs":
        import gigapix
        f = lambda b: gigapix.Image.thumbnail_buffer(b, 256).to_buffer(".jpg")
    else:
        import pyvips
        f = lambda b: pyvips.Image.thumbnail_buffer(b, 256).write_to_buffer(".jpg")
    t = time.perf_counter()
    for i, b in enumerate(blobs):
        f(b)
        if i + 1 == 20:
            out["rss_20"] = rss()
    out["images_per_s"] = len(blobs) / (time.perf_counter() - t)
    a = None
out.setdefault("seconds", time.perf_counter() - t)
out["rss"] = rss()
out["array_bytes"] = 0 if a is None else a.nbytes
print(json.dumps(out))
'''


def run_once(python: str, kind: str, arg: str, n: int) -> dict | None:
    p = subprocess.run([python, "-c", CASE, kind, arg, str(n)], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


RUNS = 1
_cache: dict = {}


def run(python: str, kind: str, arg: str, n: int) -> dict | None:
    """The median run (by its timed figure) of RUNS; the rounds of the
    cases of one group are interleaved by `group`."""
    return _cache.get((kind, arg)) or _median([run_once(python, kind, arg, n) for _ in range(RUNS)])


def _median(results: list) -> dict | None:
    if any(r is None for r in results):
        return None
    key = lambda r: r.get("per_call_s", r["seconds"]) if "images_per_s" not in r else -r["images_per_s"]
    results = sorted(results, key=key)
    m = dict(results[len(results) // 2])
    m["rss"] = max(r["rss"] for r in results)
    return m


def group(python: str, kinds: list, arg: str, n: int) -> None:
    """Runs the cases of `kinds` in interleaved rounds (a, b, a, b, ...),
    keeping each one's median for `run`."""
    results: dict = {k: [] for k in kinds}
    for _ in range(RUNS):
        for k in kinds:
            results[k].append(run_once(python, k, arg, n))
    for k in kinds:
        _cache[(k, arg)] = _median(results[k])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("images", nargs="+")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--jpegs", help="folder of JPEGs for the thumbnail loop")
    ap.add_argument("--python", default=sys.executable, help="interpreter with gigapix (and peers)")
    ap.add_argument("--runs", type=int, default=5, help="interleaved rounds; medians are shown")
    o = ap.parse_args()
    global RUNS
    RUNS = o.runs
    rows = []
    mb = lambda b: f"{b / 1e6:.0f} MB"
    for p in o.images:
        group(o.python, ["gigapix-numpy", "pillow-numpy", "pyvips-numpy"], p, 0)
        group(o.python, ["gigapix-resize", "pyvips-resize"], p, 0)
        for kind in ("gigapix-numpy", "pillow-numpy", "pyvips-numpy", "gigapix-resize", "pyvips-resize"):
            r = run(o.python, kind, p, 0)
            rows.append((kind, p, "n/a" if r is None else f"{r['seconds']:.3f} s",
                         "" if r is None else f"{mb(r['rss'])} (array {mb(r['array_bytes'])})"))
    for mpx in ("1", "100"):
        r = run(o.python, "gigapix-from_numpy", mpx, 0)
        rows.append(("gigapix-from_numpy", f"{mpx} Mpx", "n/a" if r is None else f"{r['per_call_s'] * 1e6:.1f} us", ""))
    jpegs = o.jpegs
    if jpegs is None:
        import os
        import tempfile
        jpegs = tempfile.mkdtemp()
        subprocess.run([o.python, "-c",
                        "import gigapix,sys; gigapix.Image.open(sys.argv[1]).save(sys.argv[2])",
                        o.images[0], os.path.join(jpegs, "0.jpg")], check=True)
    group(o.python, ["gigapix-thumbs", "pyvips-thumbs"], jpegs, o.n)
    for kind in ("gigapix-thumbs", "pyvips-thumbs"):
        r = run(o.python, kind, jpegs, o.n)
        rows.append((kind, f"{o.n} JPEGs", "n/a" if r is None else f"{r['images_per_s']:.1f} img/s",
                     "" if r is None else f"RSS {mb(r.get('rss_20', 0))} after 20, {mb(r['rss'])} after {o.n}"))
    w = [max(len(str(r[i])) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
