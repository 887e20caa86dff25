"""Several digits in one photo, broken strokes, and photos with no digit at all."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from devkit.photos import digit, on_paper
from model.reading.transform import DigitTransform, NoDigit

TRANSFORM = DigitTransform()


def test_digits_come_left_to_right(mnist_test):
    glyphs = [digit(mnist_test, d) for d in (2, 0, 2, 6)]
    segmentation = TRANSFORM(on_paper(glyphs, height=100, size=(640, 300)))
    assert len(segmentation.crops) == 4
    lefts = [c.box[0] for c in segmentation.crops]
    assert lefts == sorted(lefts)


def test_ten_digits_in_a_row(mnist_test):
    glyphs = [digit(mnist_test, d) for d in range(10)]
    segmentation = TRANSFORM(on_paper(glyphs, height=60, size=(640, 200)))
    assert len(segmentation.crops) == 10


def test_a_broken_stroke_stays_one_digit(mnist_test):
    five = digit(mnist_test, 5).copy()
    rows = np.flatnonzero(five.max(axis=1) > 0)
    cut = rows[0] + (rows[-1] - rows[0]) // 3
    five[cut : cut + 2] = 0
    _, count = ndimage.label(five > 100)
    assert count >= 2, "the test digit must really be in pieces"
    assert len(TRANSFORM(on_paper([five], height=150)).crops) == 1


def test_specks_are_ignored(mnist_test):
    photo = on_paper([digit(mnist_test, 4)], height=150)
    draw = ImageDraw.Draw(photo)
    rng = np.random.default_rng(0)
    for x, y in rng.integers(0, 300, (20, 2)):
        draw.point((int(x), int(y)), fill=(40, 40, 40))
    assert len(TRANSFORM(photo).crops) == 1


def test_box_is_in_original_pixels(mnist_test):
    photo = on_paper([digit(mnist_test, 1)], height=200, size=(2000, 1500), at=(1500, 1100))
    (crop,) = TRANSFORM(photo).crops
    x0, y0, x1, y1 = crop.box
    assert 1500 <= x0 <= 1700 and 1100 <= y0 <= 1300 and x1 <= 1700 and y1 <= 1300


def test_blank_page_has_no_digit():
    rng = np.random.default_rng(1)
    paper = (235 + rng.normal(0, 3, (480, 640))).clip(0, 255).astype(np.uint8)
    segmentation = TRANSFORM(Image.fromarray(paper))
    assert segmentation.crops == ()
    assert segmentation.reason


def test_a_landscape_is_not_a_number():
    """Sky, hills, trees: no paper, no digit."""
    rng = np.random.default_rng(2)
    image = Image.new("RGB", (640, 480), (120, 170, 230))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 300), (200, 180), (420, 260), (640, 160), (640, 480), (0, 480)], fill=(60, 120, 50))
    for _ in range(40):
        x, y = int(rng.integers(0, 640)), int(rng.integers(250, 480))
        draw.ellipse([x - 15, y - 40, x + 15, y], fill=(20, 70, 20))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 12, (480, 640, 3))
    segmentation = TRANSFORM(Image.fromarray(noisy.clip(0, 255).astype(np.uint8)))
    assert segmentation.crops == ()


def test_too_many_shapes_is_not_a_number(mnist_test):
    images, _ = mnist_test
    glyphs = [images[i] for i in range(30)]
    segmentation = TRANSFORM(on_paper(glyphs, height=30, size=(960, 200)))
    assert segmentation.crops == ()
    assert segmentation.reason == NoDigit.TOO_MANY
