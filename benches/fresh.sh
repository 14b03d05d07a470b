#!/usr/bin/env bash
# The headline comparisons beside libvips 8.18, as interleaved pairs
# (benches/pairs.py): JPEG save, thumbnail, gaussblur at three sigmas, and
# the README's main chain beside an older gigapix binary when one is given.
#
#   cargo build --release -p gigapix-cli && benches/fresh.sh
#
# VIPS818 is a Python with pyvips on libvips 8.18 (the `vips818` venv of
# ../shared/bench/setup.sh), PEERS_DATA/in holds x10k.tif and x8k6k.jpg
# (made by ../shared/bench), GIGAPIX_OLD an older binary, RUNS the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
G=${GIGAPIX:-$PWD/target/release/gigapix}
V=${VIPS818:-/tmp/peers-venvs/vips818/bin/python}
IN=${PEERS_DATA:-/tmp/peers-data}/in
D=${OUT_DIR:-/tmp/gigapix-fresh}
RUNS=${RUNS:-5}
P=benches/pairs.py
mkdir -p "$D"
vips() { echo "$V -c \"import pyvips; $1\""; }
open_seq="pyvips.Image.new_from_file('$IN/x10k.tif', access='sequential')"

echo "== build"
"$G" --version

echo "== x10k.tif -> JPEG Q85"
$P "$RUNS" "libvips 8.18=$(vips "$open_seq.jpegsave('$D/v.jpg', Q=85)")" \
    "gigapix=$G copy $IN/x10k.tif '$D/g.jpg[Q=85]'"
ls -l "$D/v.jpg" "$D/g.jpg" | awk '{print $5, $NF}'

echo "== thumbnail x8k6k.jpg 256 -> JPEG Q75"
$P "$RUNS" "libvips 8.18=$(vips "pyvips.Image.thumbnail('$IN/x8k6k.jpg', 256).jpegsave('$D/vt.jpg', Q=75)")" \
    "gigapix=$G thumbnail $IN/x8k6k.jpg '$D/gt.jpg[Q=75]' 256"

for s in 10 3 30; do
    echo "== gaussblur $s, x10k.tif -> TIFF"
    $P "$RUNS" "libvips 8.18=$(vips "$open_seq.gaussblur($s).tiffsave('$D/vb.tif')")" \
        "gigapix=$G pipe $IN/x10k.tif $D/gb.tif -- gaussblur $s"
done

if [[ -n ${GIGAPIX_OLD:-} ]]; then
    echo "== the README's main chain, 30000x30000x3, beside $GIGAPIX_OLD"
    chain="pipe noise:30000x30000x3 - -- linear 1.1 5 : invert : crop 7 7 29900 29900 : flip horizontal"
    $P "$RUNS" "old=$GIGAPIX_OLD $chain" "gigapix=$G $chain"
fi
