"""Thumbnails of every JPEG in a folder, from memory, with gigapix.

    python examples/python/thumbnails.py IN_DIR OUT_DIR [SIZE]
"""

import sys
from pathlib import Path

import gigapix


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.jpg")):
        blob = path.read_bytes()  # as a service would receive it
        thumb = gigapix.Image.thumbnail_buffer(blob, size)  # shrink-on-load
        (dst / path.name).write_bytes(thumb.to_buffer(".jpg", Q=85))
        print(f"{path.name}: {thumb.width}x{thumb.height}")

    # NumPy in and out: zero copy in, one copy out.
    pixels = gigapix.Image.noise(640, 480, bands=3, seed=1).numpy()
    small = gigapix.Image.from_numpy(pixels).resize(scale=0.5).gaussblur(sigma=1.5)
    print(small.shape, small.dtype, small.stats()[0]["mean"])


if __name__ == "__main__":
    main()
