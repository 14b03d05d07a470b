import keyword

import numpy as np
import pytest

import gigapix
from gigapix._gen import method_name
from conftest import example_call

OPS = gigapix.catalogue()


def test_catalogue_is_not_empty_and_every_op_has_a_method():
    assert len(OPS) > 50
    for op in OPS:
        m = getattr(gigapix.Image, method_name(op))
        assert op["summary"].rstrip(".") in m.__doc__
        for a in op["args"]:
            assert a["name"] in m.__doc__


@pytest.mark.parametrize("op", OPS, ids=[o["name"] for o in OPS])
def test_every_operation_runs_its_example(op, rgb):
    kwargs = example_call(op)
    if op["input"]:
        out = getattr(rgb, method_name(op))(**kwargs)
    else:
        out = getattr(gigapix.Image, method_name(op))(**kwargs)
    if op["output"] == "values":
        assert isinstance(out, (float, list))
    else:
        assert isinstance(out, gigapix.Image)
        a = out.numpy()
        assert a.shape[:2] == (out.height, out.width)


def test_wrong_type_is_a_type_error_naming_op_and_arg(rgb):
    with pytest.raises(TypeError, match=r"gaussblur: argument `sigma`"):
        rgb.gaussblur(sigma="big")


def test_out_of_range_is_a_value_error_naming_op_and_arg(rgb):
    with pytest.raises(ValueError, match=r"embed|crop"):
        rgb.crop(left=0, top=0, width=1000, height=10).numpy()
    with pytest.raises(TypeError, match=r"gaussblur: unknown argument `nope`"):
        rgb.gaussblur(sigma=1.0, nope=2)


def test_missing_argument_names_op(rgb):
    with pytest.raises(ValueError, match=r"gaussblur: missing argument `sigma`"):
        rgb.gaussblur()


def test_measurement_returns_numbers():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    img = gigapix.Image.from_numpy(a)
    assert img.avg() == pytest.approx(a.mean())
    assert img.max() == 11.0
