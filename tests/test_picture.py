"""The pictures of what was read: boxes where the reading found the digits, inputs below, upright and small."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from bot.replies import picture
from bot.replies.answer import Answer
from devkit.photos import digit, jpeg, on_paper, smiley


def colour_along(image: Image.Image, box: tuple[int, int, int, int], colour: tuple[int, int, int]) -> float:
    """Share of the pixels on a box's top edge close to ``colour`` (JPEG blurs a little)."""
    x0, y0, x1, _ = box
    row = np.asarray(image.convert("RGB"), np.int16)[y0, x0:x1]
    return float((np.abs(row - np.array(colour)).max(axis=1) < 60).mean())


def scaled(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    return x0, y0, x1, y1


def test_the_inputs_strip_shows_each_input_enlarged_side_by_side():
    inputs = np.stack([np.full((28, 28), 255 * (i % 2), np.uint8) for i in range(3)]).tobytes()
    strip = picture.inputs_strip(inputs, 3, scale=2)
    assert strip.size == ((28 * 3 + 2 * 2) * 2, 56)
    assert strip.getpixel((0, 0)) == 0 and strip.getpixel((2 * 31, 0)) == 255


def test_each_digit_is_boxed_where_the_reading_found_it_and_set_aside_shapes_are_dashed(predictor, mnist_test):
    photo = jpeg(on_paper([digit(mnist_test, 4), smiley(), digit(mnist_test, 1)], height=100, size=(520, 300)))
    reading = predictor.predict(photo)
    assert reading.number == "41" and len(reading.set_aside) == 1
    details = Answer.of(reading)
    drawn = Image.open(io.BytesIO(picture.boxed(photo, details)))
    assert drawn.width == 520 and drawn.height > 300, "the photo at its size, a legend under it (a shape was set aside)"
    for item in details.digits:
        colour = picture.DIGIT if item.confidence >= 0.8 else picture.UNSURE
        x0, _, x1, y1 = scaled(item.box, 1.0)
        assert colour_along(drawn, (x0, y1, x1, y1), colour) > 0.8, item  # the bottom edge (the label sits on the top)
    x0, _, x1, y1 = scaled(details.set_aside[0], 1.0)
    dashes = colour_along(drawn, (x0, y1, x1, y1), picture.SET_ASIDE)
    assert 0.3 < dashes < 0.8, "grey dashes, not a solid line"


def test_a_big_rotated_photo_is_drawn_upright_small_with_the_boxes_on_the_digits(predictor, mnist_test):
    upright = on_paper([digit(mnist_test, 2), digit(mnist_test, 5)], height=900, size=(4000, 3000))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side, shown upright: as phones do
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", exif=exif.tobytes(), quality=90)
    photo = buffer.getvalue()
    reading = predictor.predict(photo)
    assert reading.number == "25"
    details = Answer.of(reading)
    drawn = Image.open(io.BytesIO(picture.boxed(photo, details, b"", 0)))
    assert max(drawn.size) <= 1280 and drawn.width / drawn.height == 4 / 3, "upright, small"
    for item in details.digits:
        x0, _, x1, y1 = scaled(item.box, drawn.width / 4000)
        assert colour_along(drawn, (x0, y1, x1, y1), picture.DIGIT) > 0.8, item


def test_a_tiny_photo_is_drawn_enlarged_so_the_labels_fit_beside_the_digits(predictor, mnist_test):
    photo = jpeg(on_paper([digit(mnist_test, d) for d in (2, 0, 7)], height=30, size=(173, 50)))
    details = Answer.of(predictor.predict(photo))
    assert len(details.digits) >= 2
    drawn = Image.open(io.BytesIO(picture.boxed(photo, details)))
    assert drawn.width == picture.NARROWEST and abs(drawn.height - round(50 * picture.NARROWEST / 173)) <= 1
    scale = drawn.width / 173
    for item in details.digits:
        _, y0, x1, y1 = scaled(item.box, scale)
        colour = picture.DIGIT if item.confidence >= 0.8 else picture.UNSURE
        side = np.asarray(drawn.convert("RGB"), np.int16)[y0:y1, x1]
        assert float((np.abs(side - np.array(colour)).max(axis=1) < 60).mean()) > 0.5, "each box drawn on its digit, enlarged"


def test_labels_never_cover_each_other_where_digits_stand_closer_than_a_label_is_wide():
    boxes = [(10 + 30 * i, 40, 35 + 30 * i, 90) for i in range(5)]  # 25 px wide digits, 5 px apart
    taken: list[tuple[int, int, int, int]] = []
    for box in boxes:
        taken.append(picture._label_place(box, (60, 18), taken, (200, 130)))
    for i, a in enumerate(taken):
        assert a[0] >= 0 and a[2] <= 200 and a[1] >= 0 and a[3] <= 130, "inside the picture"
        assert not any(picture._overlaps(a, b) for b in taken[i + 1 :]), (a, taken)


def test_a_legend_says_what_the_colours_mean_only_where_a_box_is_not_green(predictor, mnist_test):
    photo = jpeg(on_paper([digit(mnist_test, 3)], height=100, size=(520, 300)))
    sure = Answer.of(predictor.predict(photo))
    assert sure.digits[0].confidence >= 0.8
    assert Image.open(io.BytesIO(picture.boxed(photo, sure))).size == (520, 300), "nothing to explain"
    unsure = dataclasses.replace(sure, digits=(dataclasses.replace(sure.digits[0], confidence=0.55),))
    drawn = Image.open(io.BytesIO(picture.boxed(photo, unsure)))
    assert drawn.height > 300
    legend = np.asarray(drawn.convert("RGB"), np.int16)[304:]
    assert (np.abs(legend - np.array(picture.UNSURE)).max(axis=2) < 60).sum() > 20, "the orange swatch"


def test_the_picture_is_drawn_in_the_frame_the_reading_placed_its_boxes_in():
    """Whatever a photo's EXIF orientation, the frame the picture is drawn on (``upright``) is the
    frame the transform read, at another size: a box lands on what was read."""
    from model.reading.transform import DigitTransform, upright

    page = np.asarray(on_paper([smiley()], height=100, size=(400, 240), at=(40, 30)).convert("L"), np.float32)
    decode = DigitTransform().stages.decode
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buffer = io.BytesIO()
        Image.fromarray(page.astype(np.uint8)).save(buffer, format="JPEG", quality=95, exif=exif)
        work = decode(buffer.getvalue())
        frame, scale = upright(buffer.getvalue(), 300)
        assert abs(frame.width / scale - work.gray.shape[1] * work.scale) < 1, orientation
        seen = np.asarray(frame.convert("L").resize(work.gray.shape[::-1]), np.float32) / 255
        assert np.corrcoef(seen.ravel(), work.gray.ravel())[0, 1] > 0.95, orientation
