#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/.

Small images (mostly 13x11 pixels, so edges and partial blocks are
exercised) in the variants each loader handles, written by libvips
(pyvips) and Pillow, never by gigapix. Run with a Python that has pyvips
and Pillow (for example the `main` venv of ../shared/bench/setup.sh):

    python fuzz/make_corpus.py

then minimise with `cargo fuzz cmin TARGET` from `fuzz/`. The committed
corpora are the minimised sets, plus seeds copied from test fixtures
(not written by this script): `tiff/pyramid-*` are the pyramids of
crates/gigapix-io/tests/fixtures/pyramid (a libvips JPEG page pyramid, a
libvips deflate SubIFD pyramid and the synthetic Aperio slide; see the
README there), and the JPEG-in-TIFF seeds come from
crates/gigapix-io/tests/fixtures/tiff9.
"""
import io
import os
import sys

import numpy as np
import pyvips
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pattern(w, h, bands, dtype):
    y, x = np.mgrid[0:h, 0:w]
    chans = [(x * 37 + y * 11 + b * 53) % 256 for b in range(bands)]
    a = np.stack(chans, axis=-1).astype(np.float64)
    if dtype == np.uint16:
        a = a * 257
    elif dtype == np.float32:
        a = a / 255
    return a.astype(dtype)


def vimage(w, h, bands, dtype=np.uint8):
    return pyvips.Image.new_from_array(pattern(w, h, bands, dtype))


def main():
    w, h = 13, 11
    # TIFF: libvips' writer in its layouts and codecs.
    for bands in (1, 2, 3, 4):
        for dtype, tag in ((np.uint8, "u8"), (np.uint16, "u16"), (np.float32, "f32")):
            im = vimage(w, h, bands, dtype)
            if bands >= 3:
                im = im.copy(interpretation="srgb" if dtype != np.uint16 else "rgb16")
            for comp in ("none", "lzw", "deflate", "packbits"):
                for tile in (False, True):
                    opts = dict(compression=comp, tile=tile)
                    if tile:
                        opts.update(tile_width=16, tile_height=16)
                    if comp in ("lzw", "deflate"):
                        opts["predictor"] = "float" if dtype == np.float32 else "horizontal"
                    data = im.tiffsave_buffer(**opts)
                    put("tiff", f"vips_{bands}b_{tag}_{comp}_{'tile' if tile else 'strip'}.tif", data)
    put("tiff", "vips_u8_bigtiff.tif", vimage(w, h, 3).tiffsave_buffer(bigtiff=True))
    put("tiff", "vips_jpeg_tiles.tif",
        vimage(40, 24, 3).copy(interpretation="srgb").tiffsave_buffer(compression="jpeg", tile=True, tile_width=16, tile_height=16))
    put("tiff", "vips_pyramid.tif",
        vimage(64, 48, 3).tiffsave_buffer(tile=True, pyramid=True, tile_width=16, tile_height=16))
    put("tiff", "vips_1bit.tif", (vimage(w, h, 1) > 128).tiffsave_buffer(squash=True))
    # Pillow's TIFF writer: big-endian, planar, palette, 1-bit, CMYK.
    for mode in ("1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "F"):
        if mode == "I;16":
            im = Image.fromarray(pattern(w, h, 1, np.uint16)[..., 0])
        else:
            im = Image.fromarray(pattern(w, h, 3, np.uint8)).convert(mode)
        for comp in (None, "tiff_lzw", "tiff_adobe_deflate", "packbits"):
            b = io.BytesIO()
            try:
                im.save(b, "TIFF", compression=comp)
            except Exception:
                continue
            put("tiff", f"pil_{mode.replace(';', '_')}_{comp}.tif", b.getvalue())
    # PNG: every colour type and depth, interlaced, palette with tRNS.
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        base = Image.fromarray(pattern(w, h, 4, np.uint8))
        if mode == "I;16":
            im = Image.fromarray(pattern(w, h, 1, np.uint16)[..., 0])
        else:
            im = base.convert(mode)
        for interlace in (0, 1):
            b = io.BytesIO()
            kw = {"interlace": interlace} if interlace else {}
            if mode == "P":
                kw["transparency"] = 3
            im.save(b, "PNG", **kw)
            put("png", f"pil_{mode.replace(';', '_')}_i{interlace}.png", b.getvalue())
    for bands in (1, 2, 3, 4):
        for depth in (1, 2, 4, 8, 16):
            if depth < 8 and bands != 1:
                continue
            im = vimage(w, h, bands, np.uint16 if depth == 16 else np.uint8)
            put("png", f"vips_{bands}b_{depth}bit.png", im.pngsave_buffer(bitdepth=depth))
    put("png", "vips_palette.png", vimage(w, h, 3).pngsave_buffer(palette=True))
    # JPEG: baseline and progressive, subsampling, grey, CMYK, restarts.
    for bands in (1, 3):
        im = vimage(w, h, bands)
        for mode in ("auto", "off", "on"):
            for interlace in (False, True):
                data = im.jpegsave_buffer(Q=80, subsample_mode=mode, interlace=interlace)
                put("jpeg", f"vips_{bands}b_{mode}_{'prog' if interlace else 'base'}.jpg", data)
        put("jpeg", f"vips_{bands}b_restart.jpg", vimage(40, 24, bands).jpegsave_buffer(Q=70, restart_interval=1))
    for mode in ("CMYK", "RGB", "L"):
        b = io.BytesIO()
        Image.fromarray(pattern(w, h, 3, np.uint8)).convert(mode).save(b, "JPEG", quality=75)
        put("jpeg", f"pil_{mode}.jpg", b.getvalue())
    b = io.BytesIO()
    Image.fromarray(pattern(w, h, 3, np.uint8)).save(b, "JPEG", quality=90, subsampling=1, exif=Image.Exif().tobytes())
    put("jpeg", "pil_422_exif.jpg", b.getvalue())
    # PPM/PGM: 8 and 16 bits.
    for bands in (1, 3):
        for dtype, tag in ((np.uint8, "8"), (np.uint16, "16")):
            im = vimage(w, h, bands, dtype)
            data = im.write_to_buffer(".pgm" if bands == 1 else ".ppm")
            put("ppm", f"vips_{bands}b_{tag}.{'pgm' if bands == 1 else 'ppm'}", data)
    for mode in ("L", "RGB"):
        b = io.BytesIO()
        Image.fromarray(pattern(w, h, 3, np.uint8)).convert(mode).save(b, "PPM")
        put("ppm", f"pil_{mode}.ppm", b.getvalue())
    # GIF (Pillow): the first byte of each seed picks the gif target's load
    # options (0 first frame, 1 all frames, 3 page 1 of 2).
    def gif(name, pick, im, **kw):
        b = io.BytesIO()
        im.save(b, "GIF", **kw)
        put("gif", name, bytes([pick]) + b.getvalue())

    rgb = Image.fromarray(pattern(w, h, 3, np.uint8)).quantize(16)
    gif("still", 0, rgb)
    gif("interlaced", 0, rgb, interlace=True)
    gif("transparent", 0, rgb, transparency=3)
    gif("grey", 0, Image.fromarray(pattern(w, h, 1, np.uint8)[:, :, 0]).quantize(8))
    frames = [Image.fromarray(np.roll(pattern(w, h, 3, np.uint8), k * 3, axis=1)).quantize(8)
              for k in range(3)]
    gif("anim", 1, frames[0], save_all=True, append_images=frames[1:], duration=50, loop=0, disposal=2)
    gif("anim-page", 3, frames[0], save_all=True, append_images=frames[1:], duration=50, loop=0,
        disposal=1, transparency=0)
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))), "files", file=sys.stderr)


if __name__ == "__main__":
    main()
