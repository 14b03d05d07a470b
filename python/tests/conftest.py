import shlex

import pytest

import gigapix


def generator(spec: str) -> gigapix.Image:
    """`noise:64x48x3:5` (the catalogue examples' image words) as an Image."""
    name, _, rest = spec.partition(":")
    size, _, seed = rest.partition(":")
    dims = [int(x) for x in size.split("x")]
    kw = {}
    if len(dims) > 2:
        kw["bands"] = dims[2]
    if seed:
        kw["seed"] = int(seed)
    return getattr(gigapix.Image, name)(dims[0], dims[1], **kw)


def convert(arg: dict, text: str):
    t = arg["type"]
    if t == "int":
        return int(text)
    if t == "float":
        return float(text)
    if t == "bool":
        return text.lower() in ("", "true", "1", "yes", "on")
    if t == "numbers":
        return [float(x) for x in text.split(",")]
    if t == "image":
        return generator(text)
    if t == "image|numbers":
        try:
            return [float(x) for x in text.split(",")]
        except ValueError:
            return generator(text)
    return text  # enum, matrix, text, format


def example_call(op: dict):
    """(positional, keyword) arguments of the descriptor's example."""
    words = shlex.split(op["example"])
    by_name = {a["name"]: a for a in op["args"]}
    named, positional = {}, []
    for w in words:
        k, eq, v = w.partition("=")
        if eq and k.replace("-", "_") in by_name:
            named[k.replace("-", "_")] = v
        else:
            positional.append(w)
    kwargs = {}
    order = [a for a in op["args"] if a["required"] and a["name"] not in named]
    order += [a for a in op["args"] if not a["required"] and a["name"] not in named]
    i = 0
    for a in order:
        if i >= len(positional):
            break
        if a["type"] == "images":
            kwargs[a["name"]] = [generator(w) for w in positional[i:]]
            i = len(positional)
        else:
            kwargs[a["name"]] = convert(a, positional[i])
            i += 1
    assert i == len(positional), (op["name"], op["example"])
    for k, v in named.items():
        kwargs[k] = convert(by_name[k], v)
    return kwargs


@pytest.fixture
def rgb():
    return gigapix.Image.noise(64, 48, bands=3, seed=11)
