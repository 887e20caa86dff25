"""Bad input gives a clear error or a 'no digit' reading: never a hang or a crash."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from devkit.photos import digit, jpeg, on_paper, png, png_header_only
from model.reading.transform import ImageError
from model.reading.transform.decode import _reduced


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not-an-image"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 50, "damaged|not-an-image"),
        (png_header_only(40000, 40000), "too-large"),
        (png_header_only(10000, 10000), "too-large"),
    ],
    ids=["zero-bytes", "text", "jpeg-garbage", "bomb-over-2x-limit", "bomb-over-limit"],
)
def test_unreadable_input_raises_a_clear_error(predictor, data, message):
    """A code the bot words in its user's language, and an English message for logs and the CLI."""
    with pytest.raises(ImageError) as raised:
        predictor.predict(data)
    assert re.fullmatch(message, raised.value.kind), raised.value.kind
    assert str(raised.value).startswith(("the ", "this "))


@pytest.mark.parametrize("keep", [20, 400, 0.5])
def test_truncated_jpeg_is_a_clear_error(predictor, mnist_test, keep):
    data = jpeg(on_paper([digit(mnist_test, 6)]))
    with pytest.raises(ImageError, match=r"not an image I can read|damaged or truncated"):
        predictor.predict(data[: int(keep * len(data)) if keep < 1 else int(keep)])


@pytest.mark.parametrize("size", [(1, 1), (10000, 3), (3, 10000), (2, 2)])
def test_tiny_and_extreme_shapes_read_as_no_digit(predictor, size):
    assert predictor.predict(png(Image.new("L", size, 255))).number == ""


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def test_every_mode_and_format_reads_the_digit(predictor, mnist_test):
    photo = on_paper([digit(mnist_test, 3)])
    gray16 = Image.fromarray(np.asarray(photo.convert("L"), dtype=np.uint16) * 257)
    rgba = Image.new("RGBA", photo.size, (0, 0, 0, 0))
    rgba.putalpha(Image.fromarray(255 - np.asarray(photo.convert("L"))))
    variants = {
        "cmyk-jpeg": encode(photo.convert("CMYK"), "JPEG"),
        "palette-png": encode(photo.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "16-bit-png": encode(gray16, "PNG"),
        "transparent-png": encode(rgba, "PNG"),
        "webp": encode(photo, "WEBP"),
        "heic": encode(photo, "HEIF"),
        "bmp": encode(photo, "BMP"),
        "one-bit": encode(photo.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1"), "PNG"),
    }
    for name, data in variants.items():
        assert predictor.predict(data).number == "3", name


def test_animated_gif_reads_the_first_frame(predictor, mnist_test):
    first = on_paper([digit(mnist_test, 8)]).convert("P")
    second = on_paper([digit(mnist_test, 1)]).convert("P")
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert predictor.predict(data).number == "8"


def test_exif_orientation_is_applied(predictor, mnist_test):
    upright = on_paper([digit(mnist_test, 7)])
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to display
    data = encode(stored, "JPEG", exif=exif.tobytes(), quality=92)
    assert predictor.predict(data).number == "7"


@pytest.mark.parametrize("transparency", [None, 3, bytes([255, 255, 128, 0])])
def test_a_large_palette_image_reduces_through_its_palette_band_by_band(transparency):
    """The banded look-up gives what Pillow's whole-image conversion gives, without its RGBA copy."""
    rng = np.random.default_rng(0)
    indices = Image.fromarray(rng.integers(0, 4, (1100, 2300), dtype=np.uint8), mode="P")
    indices.putpalette([250, 250, 245, 20, 30, 140, 200, 40, 40, 90, 90, 90])
    if transparency is not None:
        indices.info["transparency"] = transparency
    reduced = _reduced(indices, 2)
    mode = "L" if transparency is None else "LA"
    expected = indices.convert(mode).reduce(2)
    assert reduced.mode == mode and reduced.size == expected.size
    assert np.abs(np.asarray(reduced, np.int16) - np.asarray(expected, np.int16)).max() <= 2  # Pillow premultiplies in 8 bits
