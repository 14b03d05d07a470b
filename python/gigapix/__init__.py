"""gigapix: images of any size in a few megabytes, from Python.

An :class:`Image` is a lazy node of an operation graph: opening reads the
header only, each operation returns a new image, and pixels are computed
only by a sink (:meth:`Image.save`, :meth:`Image.to_buffer`,
:meth:`Image.numpy`, :meth:`Image.write_into`, :meth:`Image.stats`). Sinks
run with the GIL released; Ctrl-C cancels them and raises
``KeyboardInterrupt``; ``progress=callable`` receives ``(done, total)``
pixels about ten times a second.

Every operation of the gigapix catalogue is a method of :class:`Image`
(generators are static methods), made at import time from the catalogue
with its keyword arguments, type checks and a generated docstring.
"""

from __future__ import annotations

import sys

import numpy as _np

from . import _native
from ._gen import docstring as _docstring, method_name as _method_name, param_name as _param_name

Error = _native.Error
"""An error from gigapix (a RuntimeError); bad arguments raise ValueError."""

# dtype <-> band format
_DTYPES = {
    "u8": _np.uint8, "i8": _np.int8, "u16": _np.uint16, "i16": _np.int16,
    "u32": _np.uint32, "i32": _np.int32, "f32": _np.float32, "f64": _np.float64,
}
_FORMATS = {_np.dtype(v): k for k, v in _DTYPES.items()}

__all__ = ["Image", "Error", "catalogue"]


def catalogue() -> list[dict]:
    """Every operation's descriptor (name, summary, doc, args, ...)."""
    return _native.catalogue()


class Image:
    """A gigapix image: lazy, immutable, cheap to copy."""

    __slots__ = ("_native", "__weakref__")

    def __init__(self, native):
        if not isinstance(native, _native.NativeImage):
            raise TypeError("Image() is made by Image.open, Image.decode, Image.from_numpy, ...")
        self._native = native

    # -- loaders ---------------------------------------------------------
    @staticmethod
    def open(path, **load_options) -> Image:
        """Opens a file (its header only); ``load_options`` are the format's
        options (``page=1``, ``shrink=2``, ...), as in ``path[page=1]``."""
        return Image(_native.open(str(path), load_options or None))

    @staticmethod
    def decode(data: bytes, **load_options) -> Image:
        """Decodes an image file held in ``data`` (shared, never copied)."""
        return Image(_native.decode(bytes(data), load_options or None))

    @staticmethod
    def thumbnail(path, width: int, **options) -> Image:
        """A thumbnail fitting a ``width`` square box (options: ``height``,
        ``crop``, ``no_rotate``, ``kernel``, ``import_profile``,
        ``export_profile``, ``intent``), shrunk on load (JPEG, WebP)."""
        return Image(_native.thumbnail(str(path), int(width), options or None))

    @staticmethod
    def thumbnail_buffer(data: bytes, width: int, **options) -> Image:
        """:meth:`thumbnail` of an image file held in memory, with the same
        shrink-on-load; the bytes are shared, never copied."""
        return Image(_native.thumbnail_buffer(bytes(data), int(width), options or None))

    @staticmethod
    def from_numpy(array) -> Image:
        """An image over a NumPy array without a copy: 2-D is one band,
        3-D is height x width x bands; the dtype gives the band format
        (uint8, int8, uint16, int16, uint32, int32, float32, float64).

        The image holds a reference to the array, so deleting the array's
        last Python name is safe. A non-contiguous (or byte-swapped) array
        is copied once into a contiguous one first.

        Caveat: the pixels are read when a sink runs, not now. Writing to
        the array while a pipeline over it runs gives unspecified pixels
        (never a crash); copy the array first if you must change it.
        """
        a = _np.asarray(array)
        if a.ndim == 2:
            h, w = a.shape
            bands = 1
        elif a.ndim == 3:
            h, w, bands = a.shape
        else:
            raise ValueError(f"from_numpy: expected a 2-D or 3-D array, got {a.ndim}-D")
        dt = a.dtype.newbyteorder("=") if a.dtype.byteorder not in "=|" else a.dtype
        fmt = _FORMATS.get(_np.dtype(dt))
        if fmt is None:
            raise TypeError(f"from_numpy: unsupported dtype {a.dtype}")
        a = _np.ascontiguousarray(a, dtype=dt)
        return Image(_native.from_array(a, w, h, bands, fmt))

    # -- properties ------------------------------------------------------
    @property
    def width(self) -> int:
        """Width in pixels."""
        return self._native.width

    @property
    def height(self) -> int:
        """Height in pixels."""
        return self._native.height

    @property
    def bands(self) -> int:
        """Samples per pixel."""
        return self._native.bands

    @property
    def format(self) -> str:
        """Band format: u8, i8, u16, i16, u32, i32, f32 or f64."""
        return self._native.format

    @property
    def interpretation(self) -> str:
        """How to read the bands (srgb, grey, ...)."""
        return self._native.interpretation

    @property
    def metadata(self) -> dict:
        """Metadata fields, orientation, ICC profile and EXIF (bytes)."""
        return self._native.metadata()

    def get(self, name: str):
        """One metadata item, or None."""
        return self.metadata.get(name)

    @property
    def shape(self) -> tuple[int, ...]:
        """(height, width) for one band, else (height, width, bands)."""
        if self.bands == 1:
            return (self.height, self.width)
        return (self.height, self.width, self.bands)

    @property
    def dtype(self):
        """The NumPy dtype of the band format."""
        return _np.dtype(_DTYPES[self.format])

    def __repr__(self) -> str:
        return repr(self._native)

    # -- sinks -----------------------------------------------------------
    def save(self, path, *, progress=None, **options) -> None:
        """Saves to ``path`` (format from its extension) with the format's
        options (``Q=85``, ``compression="lzw"``), atomically."""
        _native.save(self._native, str(path), options or None, progress)

    def to_buffer(self, suffix: str, *, progress=None, **options) -> bytes:
        """The image encoded as ``suffix`` (``".jpg"``, ``Q=85``): the same
        bytes :meth:`save` writes."""
        return _native.to_buffer(self._native, suffix, options or None, progress)

    def write_into(self, array, *, progress=None) -> None:
        """Computes the image into ``array``: writable, C-contiguous, of
        :attr:`shape` (or height x width x 1) and :attr:`dtype`."""
        if not isinstance(array, _np.ndarray):
            raise TypeError("write_into: expected a numpy.ndarray")
        if array.dtype != self.dtype:
            raise TypeError(f"write_into: the array is {array.dtype}, the image {self.dtype}")
        if array.shape not in (self.shape, (self.height, self.width, self.bands)):
            raise ValueError(f"write_into: the array is {array.shape}, the image {self.shape}")
        if not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError("write_into: the array must be C-contiguous and writable")
        _native.write_into(self._native, array, progress)

    def numpy(self, *, progress=None):
        """The pixels in a new NumPy array (writable, :attr:`shape`,
        :attr:`dtype`), computed straight into its memory: one copy."""
        a = _np.empty(self.shape, self.dtype)
        _native.write_into(self._native, a, progress)
        return a

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def stats(self, *, progress=None) -> list[dict]:
        """Per band: min, max, mean, stddev, sum, sum_sq, count."""
        return _native.stats(self._native, progress)


def _make(op: dict):
    name = op["name"]
    args = op["args"]
    required = [a["name"] for a in args if a["required"]]
    pnames = {_param_name(a): a["name"] for a in args}
    values = op["output"] == "values"

    def collect(pos, kw):
        if len(pos) > len(required):
            raise TypeError(f"{name}: takes {len(required)} positional argument(s) "
                            f"({', '.join(required) or 'none'}), got {len(pos)}")
        given = dict(zip(required, pos))
        for k, v in kw.items():
            real = pnames.get(k, k)
            if real in given:
                raise TypeError(f"{name}: argument `{real}` given twice")
            if v is not None:
                given[real] = v
        return given

    def finish(native):
        out = Image(native)
        if values:
            v = _native.values(native)
            return v[0] if len(v) == 1 else v
        return out

    if op["input"]:
        def method(self, *pos, **kw):
            return finish(_native.call(name, self._native, collect(pos, kw)))
    else:
        def method(*pos, **kw):
            return finish(_native.call(name, None, collect(pos, kw)))
        method = staticmethod(method)
    f = method.__func__ if isinstance(method, staticmethod) else method
    f.__name__ = f.__qualname__ = _method_name(op)
    f.__doc__ = _docstring(op)
    return method


for _op in _native.catalogue():
    setattr(Image, _method_name(_op), _make(_op))
del _op
