#!/usr/bin/env bash
# The memory planner's estimate beside the measured peak RSS, on the bench
# workloads (those of ../shared/bench and the README's table):
#
#   cargo build --release -p gigapix-cli && benches/plan.sh
#
# prints a markdown table: workload, `--plan`'s estimated peak memory, the
# peak RSS of the same run (`/usr/bin/time -f %M`), their ratio, and the
# engine's tracked peak pixel memory. PEERS_DATA/in holds the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
G=${GIGAPIX:-$PWD/target/release/gigapix}
I=${PEERS_DATA:-/tmp/peers-data}/in
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
printf '3 3 8 0\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n' >"$D/sharpen.mat"
row() {
    local name=$1
    shift
    local est meas pix
    est=$("$G" --plan "$@" | awk '/^estimated peak memory/ {print $4}')
    /usr/bin/time -o "$D/rss" -f '%M' "$G" "$@" >/dev/null 2>&1
    meas=$(tail -1 "$D/rss")
    pix=$("$G" --stats "$@" 2>&1 >/dev/null | grep -o 'peak pixel memory [0-9.]* MB' | awk '{print $4}')
    awk -v n="$name" -v e="$est" -v m="$meas" -v p="$pix" \
        'BEGIN { m = m * 1024 / 1e6; printf "| %s | %.1f MB | %.1f MB | %.2f | %s MB |\n", n, e, m, e / m, p }'
}
echo "| workload | estimate | peak RSS | estimate / RSS | tracked pixel memory |"
echo "|---|---|---|---|---|"
row "vips-bench" pipe "$I/x10k.tif" "$D/o.tif" -- crop 100 100 9800 9800 : reduce 1.1111111111 kernel=linear : conv "$D/sharpen.mat"
row "thumbnail 256" thumbnail "$I/x8k6k.jpg" "$D/t.jpg[Q=75]" 256
row "gaussblur 10" pipe "$I/x10k.tif" "$D/o.tif" -- gaussblur 10
row "gaussblur 30" pipe "$I/x10k.tif" "$D/o.tif" -- gaussblur 30
row "lanczos3 0.125" pipe "$I/x10k.tif" "$D/o.tif" -- resize 0.125 kernel=lanczos3 gap=0
row "lanczos3 0.8" pipe "$I/x10k.tif" "$D/o.tif" -- resize 0.8 kernel=lanczos3 gap=0
row "PNG re-encode" copy "$I/x4k.png" "$D/o.png"
row "TIFF to JPEG" copy "$I/x10k.tif" "$D/o.jpg"
row "JPEG to TIFF" copy "$I/x8k6k.jpg" "$D/o.tif"
row "main chain" pipe noise:30000x30000x3 - -- linear 1.1 5 : invert : crop 7 7 29900 29900 : flip horizontal
row "trivial" pipe black:1x1x1 - -- invert
