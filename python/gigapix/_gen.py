"""Signatures and docstrings of the generated methods, from the catalogue.

Shared by the package (methods made at import time) and ``gen_stubs.py``
(the ``.pyi`` stubs), so both say the same thing.
"""

from __future__ import annotations

import keyword
import textwrap

# Python types of the catalogue's argument types (for stubs and docs).
PY_TYPES = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "enum": "str",
    "numbers": "float | Sequence[float]",
    "matrix": "str | Sequence[Sequence[float]]",
    "image": "Image",
    "images": "Image | Sequence[Image]",
    "image|numbers": "Image | float | Sequence[float]",
    "format": "str",
    "text": "str",
}

# Catalogue names that are Python keywords or clash with the class's own
# attributes get a trailing underscore.
RESERVED = {"width", "height", "bands", "format", "interpretation", "metadata",
            "shape", "dtype", "save", "to_buffer", "numpy", "write_into", "stats",
            "open", "decode", "thumbnail", "thumbnail_buffer", "from_numpy", "get"}


def method_name(op: dict) -> str:
    name = op["name"]
    if keyword.iskeyword(name) or name in RESERVED:
        return name + "_"
    return name


def param_name(arg: dict) -> str:
    n = arg["name"]
    return n + "_" if keyword.iskeyword(n) else n


def docstring(op: dict) -> str:
    lines = [op["summary"].rstrip(".") + "."]
    if op["doc"]:
        lines += ["", textwrap.fill(op["doc"], 76)]
    if op["args"]:
        lines += ["", "Arguments:"]
        for a in op["args"]:
            head = f"    {param_name(a)} ({a['describe']}"
            if a["required"]:
                head += ", required"
            elif a["default"] is not None:
                head += f", default {a['default']}"
            head += ")"
            lines.append(head)
            if a["doc"]:
                lines.append(textwrap.fill(a["doc"], 76, initial_indent=" " * 8,
                                           subsequent_indent=" " * 8))
    if op["output"] == "values":
        lines += ["", "Returns the measured numbers (a float, or a list)."]
    lines += ["", f"Category: {op['category']}. Generated from the gigapix catalogue."]
    return "\n".join(lines)


def signature(op: dict) -> str:
    """The stub signature, without ``def`` and the return annotation."""
    params = [] if not op["input"] else ["self"]
    req = [a for a in op["args"] if a["required"]]
    opt = [a for a in op["args"] if not a["required"]]
    for a in req:
        params.append(f"{param_name(a)}: {PY_TYPES.get(a['type'], 'object')}")
    if opt:
        if not req and not op["input"]:
            pass
        params.append("*")
        for a in opt:
            params.append(f"{param_name(a)}: {PY_TYPES.get(a['type'], 'object')} | None = None")
    return f"{method_name(op)}({', '.join(params)})"


def returns(op: dict) -> str:
    return "float | list[float]" if op["output"] == "values" else "Image"
