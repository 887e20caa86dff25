"""The real sets derived on the fly (faint and small, small), and the reference reader they are scored beside."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from devkit.local import MODELS
from devkit.photos import digit, jpeg, on_paper
from model.data import sets
from model.judging.reference import NAME, ReferenceReader, digit_span, plain_crop


def _image(sample: sets.Sample) -> Image.Image:
    assert isinstance(sample.photo, bytes), "derived photos are bytes, as the bot gets them"
    return Image.open(io.BytesIO(sample.photo))


def _real(mnist_test, count: int = 6) -> list[sets.Sample]:
    return [sets.Sample(jpeg(on_paper([digit(mnist_test, d)], height=220, size=(400, 300))), str(d), f"w{d % 2}") for d in range(count)]


@pytest.mark.parametrize("name", list(sets.DERIVED))
def test_derived_photos_follow_their_recipe_and_their_seed(name, mnist_test):
    real = _real(mnist_test)
    once, twice = sets.derived(name, real, digit_span), sets.derived(name, real, digit_span)
    assert [s.photo for s in once] == [s.photo for s in twice], "a derived set depends on its seed only"
    degrade, _ = sets.DERIVED[name]
    for sample, original in zip(once, real, strict=True):
        image = _image(sample)
        assert image.format == "JPEG"
        assert degrade.long_side[0] - 1 <= max(image.size) <= degrade.long_side[1] + 1
        assert (sample.label, sample.group) == (original.label, original.group)


def test_faint_and_small_cuts_the_contrast_around_the_paper(mnist_test):
    real = _real(mnist_test, 3)
    (small, faint) = (sets.derived(name, real, digit_span) for name in ("real_small", "real_faint_small"))
    for a, b in zip(small, faint, strict=True):
        spread = [float(np.std(np.asarray(_image(s).convert("L"), np.float32))) for s in (a, b)]
        assert spread[1] < 0.6 * spread[0]


def test_a_photo_whose_digit_is_a_speck_of_its_frame_is_left_out(mnist_test):
    """Reduced to 56-80 px, a digit under 30% of the frame is a few pixels: no person could read it."""
    tiny = sets.Sample(jpeg(on_paper([digit(mnist_test, 3)], height=40, size=(800, 600))), "3")
    big = _real(mnist_test, 1)[0]
    assert digit_span(tiny.photo) < 0.3 < digit_span(big.photo)
    assert [s.label for s in sets.derived("real_faint_small", [tiny, big], digit_span)] == [big.label]


def test_the_reference_reader_reads_a_plain_photo(mnist_test):
    reader = ReferenceReader.load(MODELS)
    assert reader.version == NAME
    right = sum(reader.predict(jpeg(on_paper([digit(mnist_test, d)]))).number == str(d) for d in range(10))
    assert right >= 9


def test_the_reference_crop_follows_mnists_geometry(mnist_test):
    found = plain_crop(jpeg(on_paper([digit(mnist_test, 8)], height=200, size=(600, 400))))
    assert found is not None
    pixels, (x0, y0, x1, y1) = found
    rows, cols = np.nonzero(pixels > 0.05)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 20
    ys, xs = np.mgrid[0:28, 0:28]
    centre = ((pixels * ys).sum() / pixels.sum(), (pixels * xs).sum() / pixels.sum())
    assert abs(centre[0] - 14) <= 1 and abs(centre[1] - 14) <= 1
    assert 100 <= y0 < y1 <= 300 and 200 <= x0 < x1 <= 400, "inside the 200 px square the digit was drawn in"
    assert y1 - y0 >= 100
