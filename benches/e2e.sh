#!/usr/bin/env bash
# End-to-end figures for the engine, each beside its peer in the same run:
# medians of RUNS runs of `/usr/bin/time -f '%e %M'` (seconds, peak KiB).
#
#   cargo build --release -p gigapix-cli && benches/e2e.sh [DATA_DIR]
#
# DATA_DIR (default /tmp/gigapix-e2e) receives a 1.2 GB PPM and its copies.
set -euo pipefail
cd "$(dirname "$0")/.."
G=${GIGAPIX:-$PWD/target/release/gigapix}
D=${1:-/tmp/gigapix-e2e}
RUNS=${RUNS:-5}
mkdir -p "$D"

# median_of "label" cmd...: runs cmd RUNS times, prints median seconds and KiB.
median_of() {
    local label=$1; shift
    local t=() m=()
    for _ in $(seq "$RUNS"); do
        sync
        local out
        /usr/bin/time -o "$D/.time" -f '%e %M' "$@" >/dev/null 2>&1
        out=$(tail -1 "$D/.time")
        t+=("${out% *}"); m+=("${out#* }")
    done
    local mt mm
    mt=$(printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    mm=$(printf '%s\n' "${m[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-58s %8.2f s %10d KiB   (runs: %s)\n' "$label" "$mt" "$mm" "${t[*]}"
    echo "$mt" > "$D/.last"
}

[ -f "$D/big.ppm" ] || "$G" copy noise:20000x20000x3:3 "$D/big.ppm"

echo "== gigapixel null-sink pipeline (50000x50000x3)"
median_of "pipe noise:50000x50000x3 - -- linear : invert : crop : flip" \
    "$G" pipe noise:50000x50000x3 - -- linear 1.1 5 : invert : crop 7 7 49900 49900 : flip horizontal

echo "== thread scaling (20000x20000x3, linear + invert)"
median_of "--threads 1" "$G" --threads 1 pipe noise:20000x20000x3 - -- linear 1.1 5 : invert
t1=$(cat "$D/.last")
median_of "--threads 2" "$G" --threads 2 pipe noise:20000x20000x3 - -- linear 1.1 5 : invert
t2=$(cat "$D/.last")
awk -v a="$t1" -v b="$t2" 'BEGIN { printf "speed-up 2 threads / 1 thread: %.2fx\n", a / b }'

echo "== copy of a 20000x20000 RGB PPM (1.2 GB), beside cp"
median_of "cp big.ppm" cp "$D/big.ppm" "$D/cp.ppm"
tc=$(cat "$D/.last")
median_of "gigapix copy big.ppm" "$G" copy "$D/big.ppm" "$D/copy.ppm"
tg=$(cat "$D/.last")
awk -v a="$tg" -v b="$tc" 'BEGIN { printf "gigapix copy / cp: %.2fx\n", a / b }'
cmp "$D/big.ppm" "$D/copy.ppm" && echo "copy is byte-identical"

echo "== vertical flip of the PPM"
median_of "gigapix pipe big.ppm flipped.ppm -- flip vertical" \
    "$G" pipe "$D/big.ppm" "$D/flipped.ppm" -- flip vertical
rm -f "$D/cp.ppm" "$D/copy.ppm"
