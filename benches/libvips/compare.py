#!/usr/bin/env python3
"""Check gigapix's results against libvips 8.18, expression by expression.

Every case is a gigapix command line (`gigapix pipe IN OUT -- OP ARGS : ...`)
and the same expression in pyvips. Both results are saved as TIFF and
compared: width, height, bands and band format must be equal and the mean
absolute difference at most 0.5 (measurements: the printed numbers are
compared with pyvips' directly). A markdown table goes to stdout; details
of every row that is not a pass follow it.

    python3 benches/libvips/compare.py                 # every case
    python3 benches/libvips/compare.py --only hist     # names containing "hist"
    python3 benches/libvips/compare.py --make-fixtures # regenerate fixtures/

This file runs twice: as the driver (any Python 3.8+, standard library
only), which runs gigapix and prints the table, and as the worker
(`--worker`, started by the driver under `--python`, the interpreter that
has pyvips and numpy), which evaluates the pyvips expressions and compares
the pixels.

Exit status: 0 when every row passes (rows whose operation gigapix does not
list yet are "missing" and do not count unless --strict), 1 when a row
fails or errors, 2 on a usage or setup problem.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_GIGAPIX = os.path.join(ROOT, "target", "release", "gigapix")
DEFAULT_PYTHON = "/tmp/peers-venvs/vips818/bin/python"

# Tolerance on the mean absolute difference of two images.
MAD_TOLERANCE = 0.5

# ---------------------------------------------------------------------------
# The cases.
#
# name:  a short identifier (for --only)
# gp:    gigapix's input and steps: "IN -- OP ARGS : OP ARGS"; the output is
#        added by the driver (a TIFF, or `-` for measurements). Paths are
#        relative to fixtures/.
# py:    the pyvips expression. Names: a (smooth.tif), b (noise.tif),
#        g (grey.tif), m (mask.tif), al (alpha.tif), big (big.tif),
#        u (u16.tif), s (s16.tif), f (f32.tif), sm (small.tif),
#        lut (lut.tif), trim (trim.tif), tiles (the 16 tiles in order),
#        Image (pyvips.Image).
# kind:  "image" (compare pixels) or "values" (compare printed numbers).
# ---------------------------------------------------------------------------


def case(name, gp, py, kind="image", family="", tol=None):
    return {"name": name, "gp": gp, "py": py, "kind": kind, "family": family, "tol": tol}


TILES = " ".join(f"tiles/tile_{i:02}.tif" for i in range(1, 16))

CASES = [
    # Arithmetic.
    case("absdiff_more", "smooth.tif -- subtract noise.tif : abs : more 10", "(a - b).abs() > 10", family="arithmetic"),
    case("add_u8", "smooth.tif -- add noise.tif", "a + b", family="arithmetic"),
    case("subtract_u16_u8", "u16.tif -- subtract grey.tif", "u - g", family="arithmetic"),
    case("subtract_const", "smooth.tif -- subtract 10", "a - 10", family="arithmetic"),
    case("multiply_u8", "smooth.tif -- multiply noise.tif", "a * b", family="arithmetic"),
    case("multiply_1band", "smooth.tif -- multiply grey.tif", "a * g", family="arithmetic"),
    case("multiply_perband", "smooth.tif -- multiply 0.5,1,2", "a * [0.5, 1, 2]", family="arithmetic"),
    case("divide_u8", "smooth.tif -- divide noise.tif", "a / b", family="arithmetic"),
    case("remainder_const", "smooth.tif -- remainder 7", "a % 7", family="arithmetic"),
    case("remainder_u8", "smooth.tif -- remainder noise.tif", "a % b", family="arithmetic"),
    case("threshold_ifthenelse", "smooth.tif -- subtract 10 : multiply 1.2 : more 128 : ifthenelse 255 0",
         "((a - 10) * 1.2 > 128).ifthenelse(255, 0)", family="arithmetic"),
    case("abs_s16", "s16.tif -- abs", "s.abs()", family="arithmetic"),
    case("sign_s16", "s16.tif -- sign", "s.sign()", family="arithmetic"),
    case("round_f32", "f32.tif -- round", "f.rint()", family="arithmetic"),
    case("floor_f32", "f32.tif -- floor", "f.floor()", family="arithmetic"),
    case("ceil_f32", "f32.tif -- ceil", "f.ceil()", family="arithmetic"),
    case("clamp_u8", "smooth.tif -- clamp min=50 max=200", "a.clamp(min=50, max=200)", family="arithmetic"),
    case("clamp_f32", "f32.tif -- clamp", "f.clamp()", family="arithmetic"),
    case("math_sin", "smooth.tif -- math sin", "a.sin()", family="arithmetic"),
    case("math_log", "smooth.tif -- math log", "a.log()", family="arithmetic"),
    case("math_exp10", "f32.tif -- math exp10", "f.exp10()", family="arithmetic"),
    case("math_atan", "f32.tif -- math atan", "f.atan()", family="arithmetic"),
    case("math2_pow", "smooth.tif -- math2 pow 0.5", "a ** 0.5", family="arithmetic"),
    case("math2_pow_img", "f32.tif -- abs : math2 pow f32.tif", "f.abs() ** f", family="arithmetic"),
    case("math2_wop", "f32.tif -- math2 wop 2", "f.math2_const('wop', [2])", family="arithmetic"),
    case("math2_atan2", "smooth.tif -- math2 atan2 noise.tif", "a.math2(b, 'atan2')", family="arithmetic"),
    # Relational.
    case("more_perband", "smooth.tif -- more 100,128,50", "a > [100, 128, 50]", family="relational"),
    case("lesseq_u8", "smooth.tif -- lesseq noise.tif", "a <= b", family="relational"),
    case("equal_const", "grey.tif -- equal 100", "g == 100", family="relational"),
    case("notequal_u8", "smooth.tif -- notequal noise.tif", "a != b", family="relational"),
    case("less_f32", "f32.tif -- less 0.5", "f < 0.5", family="relational"),
    case("moreeq_frac", "smooth.tif -- moreeq 127.5", "a >= 127.5", family="relational"),
    # Boolean.
    case("and_u8", "smooth.tif -- and noise.tif", "a & b", family="boolean"),
    case("or_const", "smooth.tif -- or 15", "a | 15", family="boolean"),
    case("eor_u8", "smooth.tif -- eor noise.tif", "a ^ b", family="boolean"),
    case("lshift_u8", "smooth.tif -- lshift 2", "a << 2", family="boolean"),
    case("rshift_s16", "s16.tif -- rshift 3", "s >> 3", family="boolean"),
    case("not_u8", "smooth.tif -- not", "~a", family="boolean"),
    # ifthenelse.
    case("ifthenelse_mask", "mask.tif -- ifthenelse smooth.tif noise.tif", "m.ifthenelse(a, b)", family="ifthenelse"),
    case("ifthenelse_blend", "alpha.tif -- ifthenelse smooth.tif noise.tif blend=true",
         "al.ifthenelse(a, b, blend=True)", family="ifthenelse"),
    case("ifthenelse_const", "mask.tif -- ifthenelse smooth.tif 0", "m.ifthenelse(a, 0)", family="ifthenelse"),
    # Bands.
    case("bandjoin_3", "grey.tif -- bandjoin mask.tif noise.tif", "g.bandjoin([m, b])", family="bands"),
    case("bandjoin_const", "smooth.tif -- bandjoin_const 255", "a.bandjoin_const([255])", family="bands"),
    case("bandmean", "smooth.tif -- bandmean", "a.bandmean()", family="bands"),
    case("bandbool_and", "smooth.tif -- bandbool and", "a.bandbool('and')", family="bands"),
    case("bandbool_eor", "noise.tif -- bandbool eor", "b.bandbool('eor')", family="bands"),
    case("bandfold", "smooth.tif -- bandfold factor=4", "a.bandfold(factor=4)", family="bands"),
    case("bandfold_default", "smooth.tif -- bandfold", "a.bandfold()", family="bands"),
    case("bandunfold", "smooth.tif -- bandunfold", "a.bandunfold()", family="bands"),
    # Histograms.
    case("maplut", "smooth.tif -- maplut lut.tif", "a.maplut(lut)", family="histogram"),
    case("hist_find", "smooth.tif -- hist_find", "a.hist_find()", family="histogram"),
    case("hist_find_u16", "u16.tif -- hist_find", "u.hist_find()", family="histogram"),
    case("hist_cum", "grey.tif -- hist_find : hist_cum", "g.hist_find().hist_cum()", family="histogram"),
    case("hist_norm", "grey.tif -- hist_find : hist_norm", "g.hist_find().hist_norm()", family="histogram"),
    case("hist_equal", "grey.tif -- hist_equal", "g.hist_equal()", family="histogram"),
    case("hist_equal_rgb", "big.tif -- hist_equal", "big.hist_equal()", family="histogram"),
    case("hist_local", "grey.tif -- hist_local 8 8", "g.hist_local(8, 8)", family="histogram"),
    case("percent", "grey.tif -- percent 50", "g.percent(50)", kind="values", family="histogram"),
    case("percent_rgb", "big.tif -- percent 95", "big.percent(95)", kind="values", family="histogram"),
    # Assembly.
    case("insert", "smooth.tif -- insert small.tif 10 5", "a.insert(sm, 10, 5)", family="assembly"),
    case("insert_expand", "smooth.tif -- insert small.tif 56 40 expand=true", "a.insert(sm, 56, 40, expand=True)",
         family="assembly"),
    case("join_h", "smooth.tif -- join noise.tif horizontal", "a.join(b, 'horizontal')", family="assembly"),
    case("join_v_shim", "smooth.tif -- join small.tif vertical shim=4", "a.join(sm, 'vertical', shim=4)",
         family="assembly"),
    case("arrayjoin_4x4", f"tiles/tile_00.tif -- arrayjoin {TILES} across=4", "Image.arrayjoin(tiles, across=4)",
         family="assembly"),
    case("replicate", "small.tif -- replicate 3 2", "sm.replicate(3, 2)", family="assembly"),
    case("gravity_centre", "small.tif -- gravity centre 41 29", "sm.gravity('centre', 41, 29)", family="assembly"),
    case("gravity_se_copy", "small.tif -- gravity south-east 40 30 extend=copy",
         "sm.gravity('south-east', 40, 30, extend='copy')", family="assembly"),
    case("smartcrop", "big.tif -- smartcrop 64 64", "big.smartcrop(64, 64)", family="assembly"),
    case("smartcrop_entropy", "big.tif -- smartcrop 80 60 interesting=entropy",
         "big.smartcrop(80, 60, interesting='entropy')", family="assembly"),
    case("zoom", "small.tif -- zoom 3 2", "sm.zoom(3, 2)", family="assembly"),
    case("subsample", "big.tif -- subsample 2 3", "big.subsample(2, 3)", family="assembly"),
    case("getpoint", "smooth.tif -- getpoint 10 20", "a.getpoint(10, 20)", kind="values", family="assembly"),
    case("find_trim", "trim.tif -- find_trim", "trim.find_trim()", kind="values", family="assembly"),
    # Existing operations, as checks of the harness and of shared rules.
    case("cast_f32_u8", "f32.tif -- linear 20 0 format=f32 : cast u8", "f.linear(20, 0).cast('uchar')",
         family="conversion"),
    case("cast_f32_i16", "f32.tif -- cast i16", "f.cast('short')", family="conversion"),
    case("cast_f64", "s16.tif -- cast f64", "s.cast('double')", family="conversion"),
    case("linear_float", "smooth.tif -- linear 1.5 10 format=f32", "a.linear(1.5, 10)", family="conversion"),
    case("invert_u8", "smooth.tif -- invert", "a.invert()", family="conversion"),
    case("extract_band", "smooth.tif -- extract_band 1 n=2", "a.extract_band(1, n=2)", family="conversion"),
    case("embed", "small.tif -- embed 5 3 30 20", "sm.embed(5, 3, 30, 20)", family="conversion"),
    # Measurements.
    case("avg", "smooth.tif -- avg", "a.avg()", kind="values", family="measure"),
    case("deviate", "noise.tif -- deviate", "b.deviate()", kind="values", family="measure"),
    case("min", "s16.tif -- min", "s.min()", kind="values", family="measure"),
    case("max", "f32.tif -- max", "f.max()", kind="values", family="measure"),
    case("avg_absdiff", "smooth.tif -- subtract noise.tif : abs : avg", "(a - b).abs().avg()", kind="values",
         family="measure"),
]

# Fixture variables of the pyvips expressions.
FIXTURE_VARS = {
    "a": "smooth.tif", "b": "noise.tif", "g": "grey.tif", "m": "mask.tif", "al": "alpha.tif",
    "big": "big.tif", "u": "u16.tif", "s": "s16.tif", "f": "f32.tif", "sm": "small.tif",
    "lut": "lut.tif", "trim": "trim.tif",
}

# gigapix's band format names and libvips'.
VIPS_FORMAT = {"uchar": "u8", "char": "i8", "ushort": "u16", "short": "i16",
               "uint": "u32", "int": "i32", "float": "f32", "double": "f64"}


# ---------------------------------------------------------------------------
# Driver (standard library only).
# ---------------------------------------------------------------------------


def gigapix_ops(gigapix):
    """The operation names `gigapix list` prints."""
    out = subprocess.run([gigapix, "list"], capture_output=True, text=True, check=True).stdout
    return {m.group(1) for m in re.finditer(r"^  ([a-z0-9_]+)\s", out, re.M)}


def steps_of(gp):
    """The operation names of a case's steps."""
    ops = gp.split(" -- ", 1)[1]
    return [step.split()[0] for step in ops.split(" : ")]


def parse_numbers(text):
    nums = []
    for word in text.split():
        try:
            nums.append(float(word))
        except ValueError:
            pass
    return nums


def run_gigapix(gigapix, c, tmp):
    """Runs one case; returns what the worker needs to compare ('ours')."""
    inp, ops = c["gp"].split(" -- ", 1)
    words = shlex.split(ops)

    def run(out):
        cmd = [gigapix, "--no-progress", "pipe", inp, out, "--"] + words
        try:
            p = subprocess.run(cmd, cwd=FIXTURES, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return 124, "", "timed out after 300 s"
        err = [ln for ln in p.stderr.strip().splitlines() if ln and not ln.startswith("Try 'gigapix")]
        return p.returncode, p.stdout, " / ".join(err)

    if c["kind"] == "values":
        rc, out, err = run("-")
        if rc != 0:
            return {"type": "error", "message": f"exit {rc}: {err}"}
        nums = parse_numbers(out)
        if not nums:
            return {"type": "error", "message": "printed no numbers (an image, not a measurement?)"}
        return {"type": "numbers", "values": nums, "text": out.strip()}

    tif = os.path.join(tmp, c["name"] + ".gigapix.tif")
    rc, out, err = run(tif)
    if rc == 0:
        return {"type": "tiff", "path": tif}
    if "gives numbers" in err or "use `-` as OUT" in err:
        rc2, out2, err2 = run("-")
        if rc2 == 0:
            return {"type": "numbers", "values": parse_numbers(out2), "text": out2.strip(),
                    "note": "gigapix gives numbers where libvips gives an image"}
        return {"type": "error", "message": f"exit {rc2}: {err2}"}
    # Perhaps the TIFF writer refuses this band format: try the raw format.
    gpx = os.path.join(tmp, c["name"] + ".gigapix.gpx")
    rc2, _, err2 = run(gpx)
    if rc2 == 0:
        return {"type": "gpx", "path": gpx,
                "note": f"TIFF save failed ({err}); compared gigapix's .gpx output instead"}
    return {"type": "error", "message": f"exit {rc}: {err}"}


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def run_worker(python, mode, payload_path):
    p = subprocess.run([python, os.path.abspath(__file__), "--worker", mode, payload_path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit(f"compare.py: the pyvips worker ({python}) failed")
    return p.stdout


def driver(args):
    if args.make_fixtures:
        os.makedirs(FIXTURES, exist_ok=True)
        sys.stdout.write(run_worker(args.python, "fixtures", FIXTURES))
        return 0
    if not os.path.isdir(FIXTURES):
        sys.exit("compare.py: no fixtures/ directory: run with --make-fixtures first")
    if not os.access(args.gigapix, os.X_OK):
        sys.exit(f"compare.py: {args.gigapix} is not an executable: "
                 "build it with `cargo build --release -p gigapix-cli` or pass --gigapix")
    listed = gigapix_ops(args.gigapix)

    cases = CASES
    if args.only:
        wanted = args.only.split(",")
        cases = [c for c in CASES if any(w in c["name"] or w == c["family"] for w in wanted)]
        if not cases:
            sys.exit(f"compare.py: no case matches --only {args.only}")

    tmp = args.keep or tempfile.mkdtemp(prefix="gigapix-vs-libvips-")
    os.makedirs(tmp, exist_ok=True)
    jobs = []
    for c in cases:
        job = dict(c)
        missing = [op for op in steps_of(c["gp"]) if op not in listed]
        job["missing"] = missing
        job["ref_path"] = os.path.join(tmp, c["name"] + ".libvips.tif")
        job["ours"] = None if missing else run_gigapix(args.gigapix, c, tmp)
        job["tol"] = c["tol"] if c["tol"] is not None else MAD_TOLERANCE
        jobs.append(job)
    payload = os.path.join(tmp, "jobs.json")
    with open(payload, "w") as fh:
        json.dump({"fixtures": FIXTURES, "jobs": jobs}, fh)
    results = json.loads(run_worker(args.python, "compare", payload))

    # Names only, no paths of this machine: the output is committed.
    print(f"gigapix: `{os.path.basename(args.gigapix)}`; libvips: {results['version']} "
          f"via `{os.path.basename(args.python)}`; fixtures: `benches/libvips/fixtures`\n")
    print("| case | gigapix | pyvips | gigapix header | libvips header | MAD | verdict |")
    print("|---|---|---|---|---|---|---|")
    counts = {}
    for r in results["rows"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        gp_in, gp_ops = r["gp"].split(" -- ", 1)
        out = "-" if r["kind"] == "values" else "out.tif"
        mad = "" if r["mad"] is None else f"{r['mad']:.4g}"
        if r.get("differ"):
            mad += f" ({r['differ']:.0%} ≠)" if r["differ"] >= 0.01 else f" ({r['differ']:.1%} ≠)"
        print(f"| {cell(r['name'])} | `{cell(f'{gp_in} {out} -- {gp_ops}')}` | `{cell(r['py'])}` | "
              f"{cell(r['ours_header'])} | {cell(r['ref_header'])} | {mad} | {r['verdict']} |")
    print()
    print("Summary: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + f" of {len(results['rows'])} rows.")
    details = [r for r in results["rows"] if r["verdict"] not in ("pass", "missing")]
    details += [r for r in results["rows"] if r["verdict"] == "pass" and r.get("differ")]
    if details:
        print("\n## Rows that fail, or pass with some samples different\n")
        for r in details:
            print(f"- **{r['name']}** ({r['verdict']}): pyvips `{r['py']}` gives {r['ref_header']}")
            for line in r["details"]:
                print(f"  - {line}")
    missing = {}
    for r in results["rows"]:
        for op in r["missing"]:
            missing.setdefault(op, []).append(r["name"])
    if missing:
        print("\n## Operations not in `gigapix list` yet\n")
        for op, names in sorted(missing.items()):
            print(f"- `{op}`: " + ", ".join(names))
    if args.keep:
        print(f"\n(outputs kept in {tmp})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    bad = counts.get("FAIL", 0) + counts.get("error", 0)
    if args.strict:
        bad += counts.get("missing", 0)
    return 1 if bad else 0


# ---------------------------------------------------------------------------
# Worker (pyvips and numpy).
# ---------------------------------------------------------------------------


def read_tiff(path):
    """Reads the first image of a TIFF into a (height, width, bands) numpy
    array, and returns it with gigapix's name of its band format.

    libvips 8.18's tiffload rejects 64-bit float samples ("samples out of
    range") although tiffsave writes them, so both sides' TIFFs are read
    here: classic and BigTIFF, strips or tiles, contiguous or planar,
    uncompressed or deflate, with or without the horizontal predictor.
    """
    import struct
    import zlib

    import numpy as np

    data = open(path, "rb").read()
    end = {b"II": "<", b"MM": ">"}[data[:2]]
    magic = struct.unpack(end + "H", data[2:4])[0]
    types = {1: "B", 2: "c", 3: "H", 4: "I", 5: "II", 6: "b", 7: "B", 8: "h", 9: "i", 10: "ii",
             11: "f", 12: "d", 16: "Q", 17: "q", 18: "Q"}
    if magic == 42:
        ifd = struct.unpack(end + "I", data[4:8])[0]
        count_fmt, entry_len, head = "H", 12, 2
    elif magic == 43:
        ifd = struct.unpack(end + "Q", data[8:16])[0]
        count_fmt, entry_len, head = "Q", 20, 8
    else:
        raise ValueError("not a TIFF")
    n = struct.unpack(end + count_fmt, data[ifd:ifd + head])[0]
    tags = {}
    for i in range(n):
        e = ifd + head + i * entry_len
        tag, typ = struct.unpack(end + "HH", data[e:e + 4])
        if magic == 42:
            count = struct.unpack(end + "I", data[e + 4:e + 8])[0]
            inline, voff = 4, e + 8
        else:
            count = struct.unpack(end + "Q", data[e + 4:e + 12])[0]
            inline, voff = 8, e + 12
        fmt = types.get(typ, "B")
        size = struct.calcsize(end + fmt) * count
        if size > inline:
            off = struct.unpack(end + ("I" if magic == 42 else "Q"), data[voff:voff + inline])[0]
        else:
            off = voff
        if typ == 2:
            tags[tag] = [data[off:off + count]]
        else:
            tags[tag] = list(struct.unpack(end + fmt * count, data[off:off + size]))
    width, height = tags[256][0], tags[257][0]
    spp = tags.get(277, [1])[0]
    bits = tags.get(258, [1])[0]
    sfmt = tags.get(339, [1])[0]
    comp = tags.get(259, [1])[0]
    pred = tags.get(317, [1])[0]
    planar = tags.get(284, [1])[0]
    kind = {1: "u", 2: "i", 3: "f"}[sfmt]
    name = {"u8": "u8", "u16": "u16", "u32": "u32", "i8": "i8", "i16": "i16", "i32": "i32",
            "f32": "f32", "f64": "f64"}[f"{kind}{bits}"]
    dt = np.dtype(end + {"u": "u", "i": "i", "f": "f"}[kind] + str(bits // 8))
    if comp not in (1, 8, 32946) or pred not in (1, 2):
        raise ValueError(f"compression {comp} / predictor {pred} not handled")

    def decode(chunk, rows, cols, bands):
        raw = zlib.decompress(chunk) if comp in (8, 32946) else chunk
        arr = np.frombuffer(raw, dtype=dt, count=rows * cols * bands).reshape(rows, cols, bands)
        if pred == 2:
            arr = np.cumsum(arr, axis=1, dtype=dt)
        return arr

    planes = spp if planar == 2 else 1
    per = 1 if planar == 2 else spp
    out = np.zeros((height, width, spp), dtype=dt)
    if 324 in tags:
        tw, th = tags[322][0], tags[323][0]
        offs, counts = tags[324], tags[325]
        across, down = -(-width // tw), -(-height // th)
        for k, (o, c) in enumerate(zip(offs, counts)):
            p, rest = divmod(k, across * down)
            ty, tx = divmod(rest, across)
            tile = decode(data[o:o + c], th, tw, per)
            y0, x0 = ty * th, tx * tw
            h, w = min(th, height - y0), min(tw, width - x0)
            out[y0:y0 + h, x0:x0 + w, p:p + per] = tile[:h, :w]
    else:
        rps = min(tags.get(278, [height])[0], height)
        offs, counts = tags[273], tags[279]
        strips = -(-height // rps)
        for k, (o, c) in enumerate(zip(offs, counts)):
            p, s = divmod(k, strips)
            y0 = s * rps
            h = min(rps, height - y0)
            out[y0:y0 + h, :, p:p + per] = decode(data[o:o + c], h, width, per)
    return out.astype(dt.newbyteorder("=")), name


def read_gpx(path):
    import numpy as np

    data = open(path, "rb").read()
    assert data[:8] == b"GIGAPIX1", "not a gpx file"
    w, h, b = (int.from_bytes(data[i:i + 4], "little") for i in (8, 12, 16))
    code = data[20]
    name = ["u8", "u16", "u32", "f32", "i8", "i16", "i32", "f64"][code]
    dt = np.dtype("<" + {"u8": "u1", "u16": "u2", "u32": "u4", "f32": "f4", "i8": "i1",
                         "i16": "i2", "i32": "i4", "f64": "f8"}[name])
    arr = np.frombuffer(data, dtype=dt, offset=64, count=w * h * b).reshape(h, w, b)
    return arr.astype(dt.newbyteorder("=")), name


def header_text(arr, fmt):
    h, w, b = arr.shape
    return f"{w}×{h}×{b} {fmt}"


def fmt_num(v):
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    return f"{v:.6g}"


def abs_diff(x, y):
    """|x - y| in float64, where equal infinities and two NaNs count as 0."""
    import numpy as np

    x = x.astype(np.float64)
    y = y.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(x - y)
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    d[same] = 0
    d[np.isnan(d)] = np.inf
    return d


def sample_lines(ref, ours, n=5):
    """A few values of both images at the pixels that differ most."""
    import numpy as np

    d = abs_diff(ref, ours)
    flat = np.argsort(d, axis=None)[::-1][:n]
    lines = []
    for k in flat:
        y, x, band = np.unravel_index(k, d.shape)
        if d[y, x, band] == 0:
            break
        lines.append(f"(x={x}, y={y}, band {band}): libvips {fmt_num(ref[y, x, band])}, "
                     f"gigapix {fmt_num(ours[y, x, band])}")
    frac = float((d > 0).mean())
    return lines, frac


def corner_values(arr, n=6):
    flat = arr.reshape(-1)[:n]
    return ", ".join(fmt_num(v) for v in flat)


def worker_compare(payload_path):
    import numpy as np
    import pyvips

    pyvips.cache_set_max(0)
    spec = json.load(open(payload_path))
    fx = spec["fixtures"]
    env = {"Image": pyvips.Image, "pyvips": pyvips}
    for var, file in FIXTURE_VARS.items():
        env[var] = pyvips.Image.new_from_file(os.path.join(fx, file))
    env["tiles"] = [pyvips.Image.new_from_file(os.path.join(fx, "tiles", f"tile_{i:02}.tif"))
                    for i in range(16)]
    rows = []
    for job in spec["jobs"]:
        row = {k: job[k] for k in ("name", "gp", "py", "kind", "missing")}
        row.update(ours_header="", ref_header="", mad=None, verdict="", details=[])
        rows.append(row)
        # libvips' side.
        ref = ref_fmt = ref_nums = None
        try:
            res = eval(job["py"], dict(env))
            if isinstance(res, pyvips.Image):
                res.write_to_file(job["ref_path"])
                ref, ref_fmt = read_tiff(job["ref_path"])
                if ref_fmt != VIPS_FORMAT[res.format]:
                    raise ValueError(f"TIFF read back as {ref_fmt}, libvips says {res.format}")
                row["ref_header"] = header_text(ref, ref_fmt)
            else:
                ref_nums = [float(v) for v in (res if isinstance(res, (list, tuple)) else [res])]
                row["ref_header"] = "numbers: " + " ".join(fmt_num(v) for v in ref_nums)
        except Exception as e:  # noqa: BLE001 - reported in the table
            row["ref_header"] = "pyvips error"
            row["verdict"] = "error"
            row["details"].append(f"pyvips failed: {str(e).strip()}")
            continue
        # gigapix's side.
        if job["missing"]:
            row["verdict"] = "missing"
            row["ours_header"] = "—"
            row["details"].append("not in `gigapix list`: " + ", ".join(job["missing"]))
            continue
        ours = job["ours"]
        if ours.get("note"):
            row["details"].append(ours["note"])
        if ours["type"] == "error":
            row["verdict"] = "error"
            row["ours_header"] = "gigapix error"
            row["details"].append(f"gigapix: {ours['message']}")
            if ref is not None:
                row["details"].append(f"libvips' first values: {corner_values(ref)}")
            continue
        if ours["type"] == "numbers":
            nums = ours["values"]
            row["ours_header"] = "numbers: " + " ".join(fmt_num(v) for v in nums[:8]) + (
                " …" if len(nums) > 8 else "")
            want = ref_nums if ref_nums is not None else [float(v) for v in ref.reshape(-1)]
            if ref_nums is None:
                row["verdict"] = "FAIL"
                row["details"].append("libvips gives an image here, gigapix prints numbers")
                continue
            if len(nums) != len(want):
                row["verdict"] = "FAIL"
                row["details"].append(f"gigapix prints {len(nums)} numbers, libvips gives {len(want)}")
                continue
            d = abs_diff(np.array(want), np.array(nums))
            row["mad"] = float(d.max())
            tol = np.maximum(1e-6, 1e-6 * np.abs(np.array(want)))
            row["verdict"] = "pass" if bool((d <= tol).all()) else "FAIL"
            if row["verdict"] != "pass":
                row["details"].append("libvips " + " ".join(fmt_num(v) for v in want)
                                      + "; gigapix " + " ".join(fmt_num(v) for v in nums))
            continue
        try:
            arr, fmt = read_tiff(ours["path"]) if ours["type"] == "tiff" else read_gpx(ours["path"])
        except Exception as e:  # noqa: BLE001
            try:
                im = pyvips.Image.new_from_file(ours["path"])
                arr, fmt = im.numpy().reshape(im.height, im.width, im.bands), VIPS_FORMAT[im.format]
            except Exception as e2:  # noqa: BLE001
                row["verdict"] = "error"
                row["details"].append(f"cannot read gigapix's output: {e}; pyvips: {e2}")
                continue
        row["ours_header"] = header_text(arr, fmt)
        if ref is None:
            row["verdict"] = "FAIL"
            row["details"].append("libvips gives numbers here, gigapix an image: "
                                  + " ".join(fmt_num(v) for v in ref_nums))
            continue
        problems = []
        if arr.shape != ref.shape:
            problems.append(f"size differs: libvips {header_text(ref, ref_fmt)}, gigapix {header_text(arr, fmt)}")
        if fmt != ref_fmt:
            problems.append(f"band format differs: libvips {ref_fmt}, gigapix {fmt}")
        if arr.shape == ref.shape:
            d = abs_diff(ref, arr)
            row["mad"] = float(d.mean())
            if row["mad"] > job["tol"]:
                problems.append(f"mean absolute difference {row['mad']:.4g} > {job['tol']}")
            lines, frac = sample_lines(ref, arr)
            row["differ"] = frac
            if lines and not problems:
                row["details"].append(f"passes, but {frac:.1%} of the samples differ; largest differences:")
                row["details"].extend("  " + ln for ln in lines)
            if problems and lines:
                row["details"].append(f"{frac:.1%} of the samples differ; largest differences:")
                row["details"].extend("  " + ln for ln in lines)
        else:
            row["details"].append(f"libvips' first values: {corner_values(ref)}; "
                                  f"gigapix's: {corner_values(arr)}")
        row["verdict"] = "FAIL" if problems else "pass"
        row["details"][:0] = problems
    print(json.dumps({"version": ".".join(str(pyvips.version(i)) for i in range(3)), "rows": rows}))


def worker_fixtures(out_dir):
    """Writes the fixtures with pyvips (the noise drawn by numpy with fixed
    seeds, so the files come out the same every time)."""
    import numpy as np
    import pyvips

    pyvips.cache_set_max(0)
    I = pyvips.Image

    def noise(w, h, sigma, mean, seed):
        # numpy's generator: libvips' gaussnoise hashes (x, y, seed) in a
        # way that makes nearby seeds give permutations of the same values.
        rng = np.random.default_rng(seed)
        return I.new_from_array(rng.normal(mean, sigma, (h, w)).astype(np.float32))

    def save(im, name):
        path = os.path.join(out_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        im.write_to_file(path)
        print(f"{name}: {im.width}x{im.height}x{im.bands} {im.format}")

    xyz = I.xyz(64, 48)
    x, y = xyz[0], xyz[1]
    # smooth.tif: red ramps across, green down, blue concentric rings.
    rings = ((x * x + y * y) ** 0.5 * 8).sin() * 100 + 128
    smooth = (x * (255 / 63)).bandjoin([y * (255 / 47), rings]).cast("uchar")
    save(smooth, "smooth.tif")
    # noise.tif: Gaussian noise, mean 128, sigma 60, clipped to 0..255.
    save(noise(64, 48, 60, 128, 1).bandjoin([noise(64, 48, 60, 128, 2), noise(64, 48, 60, 128, 3)])
         .cast("uchar"), "noise.tif")
    # grey.tif: a low-contrast ramp with some noise (for the histograms).
    save((x * (40 / 63) + y * (20 / 47) + 70 + noise(64, 48, 6, 0, 4)).cast("uchar"), "grey.tif")
    # mask.tif: a hard 0/255 disc; alpha.tif: the same disc with a soft edge.
    r = ((x - 30) ** 2 + (y - 22) ** 2) ** 0.5
    save((r < 17).ifthenelse(255, 0).cast("uchar"), "mask.tif")
    save(((24 - r) * (255 / 12)).cast("uchar"), "alpha.tif")
    # u16.tif: a 16-bit ramp with noise, 0..65535.
    save((x * 1000 + y * 40 + noise(64, 48, 400, 0, 5)).cast("ushort"), "u16.tif")
    # s16.tif: signed 16-bit, about -2000..2000, with noise.
    save(((x - 32) * 60 + noise(64, 48, 80, 0, 6)).cast("short"), "s16.tif")
    # f32.tif: float, about -8..8; rows 0..7 hold exact quarters (k + 0.5
    # ties for round), the other rows add noise.
    quarters = (x - 32) / 4
    save((y < 8).ifthenelse(quarters, quarters + noise(64, 48, 0.3, 0, 7)).cast("float"), "f32.tif")
    # small.tif: 16x12 RGB noise, for insert, join, replicate, gravity, zoom.
    save(noise(16, 12, 50, 100, 8).bandjoin([noise(16, 12, 50, 150, 9), noise(16, 12, 50, 50, 10)])
         .cast("uchar"), "small.tif")
    # lut.tif: 256x1, 3 bands: gamma 0.5, inverse, gamma 2.
    idx = I.identity()
    save(((idx / 255) ** 0.5 * 255).bandjoin([255 - idx, (idx / 255) ** 2 * 255]).cast("uchar"), "lut.tif")
    # trim.tif: a dark rectangle on white with faint (< 10) background noise.
    t = (noise(64, 48, 2, 250, 11)).bandjoin([noise(64, 48, 2, 250, 12), noise(64, 48, 2, 250, 13)])
    box = (x >= 13) & (x < 43) & (y >= 9) & (y < 29)
    save(box.ifthenelse([40, 90, 160], t).cast("uchar"), "trim.tif")
    # big.tif: 256x192 RGB, a smooth background with noise and a saturated disc.
    bx = I.xyz(256, 192)
    X, Y = bx[0], bx[1]
    bg = (X * (200 / 255) + 20).bandjoin([Y * (150 / 191) + 50, (X + Y) * 0.3 + 60])
    bg = bg + noise(256, 192, 12, 0, 14).bandjoin([noise(256, 192, 12, 0, 15), noise(256, 192, 12, 0, 16)])
    disc = ((X - 180) ** 2 + (Y - 60) ** 2) ** 0.5 < 25
    save(disc.ifthenelse([230, 40, 60], bg).cast("uchar"), "big.tif")
    # tiles/tile_00..15.tif: 16x12 RGB tiles, each a flat colour with noise.
    for i in range(16):
        base = [(i * 53) % 256, (i * 97 + 40) % 256, (255 - i * 16)]
        tile = noise(16, 12, 8, 0, 100 + i).bandjoin([noise(16, 12, 8, 0, 200 + i), noise(16, 12, 8, 0, 300 + i)])
        save((tile + base).cast("uchar"), f"tiles/tile_{i:02}.tif")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        mode, arg = sys.argv[2], sys.argv[3]
        if mode == "fixtures":
            worker_fixtures(arg)
        else:
            worker_compare(arg)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gigapix", default=DEFAULT_GIGAPIX, help="the gigapix binary (default: target/release/gigapix)")
    ap.add_argument("--python", default=DEFAULT_PYTHON, help=f"Python with pyvips 8.18 (default: {DEFAULT_PYTHON})")
    ap.add_argument("--only", metavar="NAME", help="only cases whose name contains NAME, or of family NAME "
                    "(comma list); families: " + ", ".join(sorted({c["family"] for c in CASES})))
    ap.add_argument("--make-fixtures", action="store_true", help="regenerate fixtures/ with pyvips and exit")
    ap.add_argument("--keep", metavar="DIR", help="write both sides' outputs to DIR and keep them")
    ap.add_argument("--strict", action="store_true", help="missing operations count as failures")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print(f"{c['name']:22} {c['family']:11} gigapix pipe {c['gp']}   |   {c['py']}")
        return 0
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
