#!/usr/bin/env bash
# The pyramid comparisons of issue 9 beside libvips 8.18, as interleaved
# pairs (benches/pairs.py): deep zoom (DeepZoom directory and zip), the
# pyramidal JPEG TIFF, a single-level tiled JPEG TIFF (what a pyramid is
# measured against), and a thumbnail of a 60000x60000 pyramid when one is
# given (PYRAMID=path, e.g. made by `gigapix copy` with
# `[tile,pyramid,compression=jpeg]`).
#
#   cargo build --release -p gigapix-cli && benches/pyramids.sh
set -euo pipefail
cd "$(dirname "$0")/.."
G=${GIGAPIX:-$PWD/target/release/gigapix}
V=${VIPS818:-/tmp/peers-venvs/vips818/bin/python}
IN=${PEERS_DATA:-/tmp/peers-data}/in
D=${OUT_DIR:-/tmp/gigapix-pyramids}
RUNS=${RUNS:-5}
P=benches/pairs.py
mkdir -p "$D"
vips() { echo "$V -c \"import pyvips; $1\""; }
open_seq="pyvips.Image.new_from_file('$IN/x10k.tif', access='sequential')"
# Each deep-zoom run writes into a new directory (removing thousands of
# tiles would be timed with the next run otherwise).
new='o=$(mktemp -d -p '"$D"')'

echo "== x10k.tif -> DeepZoom (JPEG Q75 tiles, 254/1)"
$P "$RUNS" "libvips 8.18=$new; $(vips "$open_seq.dzsave(\\\"\$o/v\\\", suffix='.jpg[Q=75]')")" \
    "gigapix=$new; $G copy $IN/x10k.tif \$o/g.dzi" \
    "gigapix zip=$new; $G copy $IN/x10k.tif \$o/g.zip" \
    "gigapix tiled TIFF=$G copy $IN/x10k.tif '$D/t.tif[tile,compression=jpeg,Q=75]'"
for t in g v; do
    echo "$t tiles: $(find "$D" -path "*/${t}_files/*" -type f | wc -l) in $RUNS runs"
done

echo "== x10k.tif -> pyramidal JPEG TIFF"
$P "$RUNS" "libvips 8.18=$(vips "$open_seq.tiffsave('$D/v.tif', tile=True, pyramid=True, compression='jpeg')")" \
    "gigapix=$G copy $IN/x10k.tif '$D/g.tif[tile,pyramid,compression=jpeg]'"
ls -l "$D/v.tif" "$D/g.tif" | awk '{print $5, $NF}'

echo "== x10k.tif -> tiled JPEG TIFF, one level"
$P "$RUNS" "libvips 8.18=$(vips "$open_seq.tiffsave('$D/v1.tif', tile=True, compression='jpeg')")" \
    "gigapix=$G copy $IN/x10k.tif '$D/g1.tif[tile,compression=jpeg]'"

if [[ -n ${PYRAMID:-} ]]; then
    echo "== thumbnail of $PYRAMID to 256"
    $P "$RUNS" "libvips 8.18=$(vips "pyvips.Image.thumbnail('$PYRAMID', 256).jpegsave('$D/vt.jpg')")" \
        "gigapix=$G thumbnail $PYRAMID $D/gt.jpg 256"
fi
rm -rf "$D"
