import gc
import io
import signal
import threading
import time

import numpy as np
import pytest

import gigapix


def test_properties(rgb):
    assert (rgb.width, rgb.height, rgb.bands, rgb.format) == (64, 48, 3, "u8")
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert isinstance(rgb.interpretation, str)
    assert isinstance(rgb.metadata, dict)


def test_from_numpy_roundtrip_each_dtype():
    rng = np.random.default_rng(1)
    for dt in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64):
        a = (rng.random((5, 7, 2)) * 100).astype(dt)
        img = gigapix.Image.from_numpy(a)
        assert img.format == {np.uint8: "u8", np.int8: "i8", np.uint16: "u16", np.int16: "i16",
                              np.uint32: "u32", np.int32: "i32", np.float32: "f32",
                              np.float64: "f64"}[dt]
        np.testing.assert_array_equal(img.numpy(), a)


def test_from_numpy_non_contiguous_is_copied():
    a = np.arange(60, dtype=np.uint8).reshape(6, 10)[:, ::2]
    np.testing.assert_array_equal(gigapix.Image.from_numpy(a).numpy(), a)


def test_from_numpy_keeps_the_array_alive():
    a = np.random.default_rng(2).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    expected = a.copy()
    img = gigapix.Image.from_numpy(a)
    del a
    gc.collect()
    # Reuse the freed memory if the image did not hold the array.
    junk = [np.full((512, 512, 3), 7, np.uint8) for _ in range(8)]
    np.testing.assert_array_equal(img.numpy(), expected)
    del junk


def test_numpy_is_writable_and_owned(rgb):
    a = rgb.numpy()
    assert a.flags.writeable and a.flags.owndata
    a[0, 0, 0] = 1


def test_write_into_and_errors(rgb):
    out = np.zeros(rgb.shape, np.uint8)
    rgb.write_into(out)
    np.testing.assert_array_equal(out, rgb.numpy())
    assert out.any()
    with pytest.raises(TypeError):
        rgb.write_into(np.zeros(rgb.shape, np.uint16))
    with pytest.raises(ValueError):
        rgb.write_into(np.zeros((48, 64, 4), np.uint8))
    ro = np.zeros(rgb.shape, np.uint8)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        rgb.write_into(ro)
    with pytest.raises(ValueError):
        rgb.write_into(np.zeros((48, 128, 3), np.uint8)[:, ::2])


def test_array_protocol(rgb):
    np.testing.assert_array_equal(np.asarray(rgb), rgb.numpy())


def test_to_buffer_equals_save(rgb, tmp_path):
    for suffix, opts in ((".png", {}), (".jpg", {"Q": 85}), (".ppm", {}), (".tif", {})):
        p = tmp_path / ("out" + suffix)
        rgb.save(p, **opts)
        assert rgb.to_buffer(suffix, **opts) == p.read_bytes()


def test_decode_and_pillow_agree(rgb):
    from PIL import Image as PILImage

    png = rgb.to_buffer(".png")
    back = gigapix.Image.decode(png)
    np.testing.assert_array_equal(back.numpy(), np.asarray(PILImage.open(io.BytesIO(png))))


def test_stats_against_numpy(rgb):
    s = rgb.stats()
    a = rgb.numpy().astype(np.float64)
    for b in range(3):
        assert s[b]["min"] == a[..., b].min()
        assert s[b]["max"] == a[..., b].max()
        assert s[b]["mean"] == pytest.approx(a[..., b].mean())


def test_thumbnail_buffer_and_file_agree(tmp_path):
    jpg = gigapix.Image.noise(640, 480, bands=3, seed=3).to_buffer(".jpg")
    p = tmp_path / "in.jpg"
    p.write_bytes(jpg)
    a = gigapix.Image.thumbnail_buffer(jpg, 64)
    b = gigapix.Image.thumbnail(p, 64)
    assert (a.width, a.height) == (64, 48)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_open_with_load_options(tmp_path):
    p = tmp_path / "in.jpg"
    gigapix.Image.noise(640, 480, bands=3, seed=3).save(p)
    assert gigapix.Image.open(p, shrink=2).width == 320


def test_progress_is_called(rgb):
    calls = []
    big = gigapix.Image.noise(2000, 2000, bands=3, seed=1).gaussblur(sigma=3.0)
    big.stats(progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_errors_are_gigapix_errors_with_context(tmp_path):
    with pytest.raises(gigapix.Error):
        gigapix.Image.open(tmp_path / "missing.png")
    assert issubclass(gigapix.Error, RuntimeError)


def test_gil_is_released():
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    before = count[0]
    gigapix.Image.noise(3000, 3000, bands=3, seed=1).gaussblur(sigma=8.0).stats()
    during = count[0] - before
    stop.set()
    t.join()
    assert during > 5


def test_ctrl_c_cancels():
    img = gigapix.Image.noise(20000, 20000, bands=3, seed=1).gaussblur(sigma=20.0)
    timer = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        img.stats()
    assert time.monotonic() - t0 < 10
    timer.join()
