"""The shipped model read through the predictor, as the bot and the CLI use it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from devkit.local import MODELS
from devkit.photos import digit, jpeg, on_paper, smiley
from model.data import sets
from model.data.numbers import NumberLook, draw_number
from model.learning import versions
from model.reading.predictor import Predictor, _Span


def test_reads_photo_like_digits(predictor, mnist_test):
    images, labels = mnist_test
    samples = list(sets.photos(images, labels, 60))
    correct = sum(predictor.predict(s.photo).number == s.label for s in samples)
    assert correct >= 55


def test_reads_numbers_left_to_right(predictor, mnist_test):
    images, labels = mnist_test
    samples = list(sets.photos(images, labels, 20, digits=4))
    correct = sum(predictor.predict(s.photo).number == s.label for s in samples)
    assert correct >= 15


def test_touching_digits_are_read_as_a_number_each_digit_in_its_place(predictor, mnist_test):
    """Four digits overlapping each other are one shape to segmentation: the number reader reads them
    in order, each with its box (left to right, over the digit), confidence, alternatives and crop."""
    images, labels = mnist_test
    picks = [int(np.flatnonzero(labels == d)[5]) for d in (1, 9, 9, 0)]
    photo = draw_number([images[j] for j in picks], "1990", np.random.default_rng(4), NumberLook(spacing="touching", ground="paper"))
    assert len(predictor.transform(photo.image).crops) < 4, "the digits must touch for this test to mean anything"
    reading = predictor.predict(photo.image)
    assert reading.number == "1990"
    assert reading.whole_string is not None and reading.confidence == reading.whole_string
    lefts = [item.box[0] for item in reading.items]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4
    ys, xs = np.nonzero(photo.digits > 0.5)
    for item in reading.items:
        x0, y0, x1, y1 = item.box
        assert xs.min() - 3 <= x0 < x1 <= xs.max() + 3 and ys.min() - 3 <= y0 < y1 <= ys.max() + 3
        assert len(item.top) == 3 and item.top[0].digit == item.digit and item.pixels.shape == (28, 28)


def test_one_digit_is_read_one_shape_at_a_time(predictor, mnist_test):
    reading = predictor.predict(jpeg(on_paper([digit(mnist_test, 8)])))
    assert reading.number == "8" and reading.whole_string is None


def test_reading_carries_everything_the_bot_shows(predictor, mnist_test):
    reading = predictor.predict(jpeg(on_paper([digit(mnist_test, 2), digit(mnist_test, 7)])))
    assert reading.number == "27"
    assert reading.model_version == predictor.version
    assert 0 < reading.confidence <= 1
    for item in reading.items:
        assert len(item.top) == 3 and item.top[0].digit == item.digit
        assert abs(sum(c.p for c in item.top) - 1) < 0.5
        assert item.pixels.shape == (28, 28)
    assert reading.confidence <= min(item.confidence for item in reading.items)


def test_blank_page_reads_as_no_digit(predictor):
    reading = predictor.predict(Image.new("RGB", (800, 600), (240, 236, 225)))
    assert reading.number == "" and reading.reason and reading.confidence == 0.0


def test_a_face_is_not_a_number(predictor):
    image = Image.new("RGB", (480, 640), (90, 90, 110))
    draw = ImageDraw.Draw(image)
    draw.ellipse([90, 120, 390, 540], fill=(225, 185, 160))
    draw.ellipse([90, 80, 390, 260], fill=(60, 40, 30))
    for cx in (180, 300):
        draw.ellipse([cx - 25, 300, cx + 25, 330], fill=(255, 255, 255))
        draw.ellipse([cx - 10, 305, cx + 10, 325], fill=(50, 30, 20))
    draw.arc([170, 400, 310, 470], 20, 160, fill=(150, 60, 60), width=8)
    assert predictor.predict(image).number == ""


def test_drawn_non_digits_read_as_no_digit(predictor):
    samples = list(sets.drawn_non_digits(20, seed=77))  # neither the training seed nor the evaluation's
    rejected = sum(predictor.predict(s.photo).number == "" for s in samples)
    assert rejected >= 17


def test_a_doodle_beside_a_number_is_left_out(predictor, mnist_test):
    photo = on_paper([digit(mnist_test, 4), smiley(), digit(mnist_test, 1)], height=100, size=(520, 300))
    reading = predictor.predict(jpeg(photo))
    assert reading.number == "41"


def test_models_from_before_the_non_digit_class_still_load(tmp_path, mnist_test):
    """Rollback and deployed registries may hold 10-output models: they load and read, with no rejection.

    The 10-output model here is the shipped one without its not-a-digit output, so it reads well.
    """
    state, card = versions.load(MODELS)
    ten = {k: (v[:10] if k.startswith("classifier.2.") else v) for k, v in state.items()}
    versions.save(tmp_path, "v1", ten, {**card, "version": "v1"})
    loaded = Predictor.load(tmp_path)
    assert not loaded.rejects and loaded.version == "v1"
    for value in (3, 5, 8):
        assert loaded.predict(jpeg(on_paper([digit(mnist_test, value)]))).number == str(value)


def test_thread_safe_under_concurrent_calls(predictor, mnist_test):
    photos = {str(d): jpeg(on_paper([digit(mnist_test, d)])) for d in range(10)}
    expected = {label: predictor.predict(data).number for label, data in photos.items()}
    results: list[bool] = []

    def worker() -> None:
        for label, data in photos.items():
            results.append(predictor.predict(data).number == expected[label])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 40 and all(results)


def test_mnist_raw_digits(predictor, mnist_test):
    images, labels = mnist_test
    picks = np.random.default_rng(0).choice(len(images), 200, replace=False)
    correct = sum(predictor.predict(Image.fromarray(images[i])).number == str(labels[i]) for i in picks)
    assert correct >= 196


def _row(digit: int, p: float) -> np.ndarray:
    """Probabilities over 10 digits and "not a digit": ``p`` on ``digit``, the rest spread evenly."""
    row = np.full(11, (1 - p) / 10, np.float32)
    row[digit] = p
    return row


def test_a_digit_is_the_mean_of_its_two_views(predictor, mnist_test, monkeypatch):
    """Grey and solid views that disagree make an unsure reading; agreeing ones a sure one."""
    crops = list(predictor.transform(jpeg(on_paper([digit(mnist_test, 3)]))).crops)
    assert len(crops) == 1
    views = np.stack([_row(3, 0.9), _row(5, 0.9)])
    monkeypatch.setattr(predictor, "_forward", lambda batch: (views, np.zeros((2, 128), np.float32)))
    probs, _ = predictor._read(crops)
    assert probs.shape == (1, 11) and abs(float(probs[0, 3]) - (0.9 + 0.01) / 2) < 1e-6


def test_the_whole_frame_that_reads_another_digit_makes_the_reading_unsure(predictor, mnist_test):
    crop = predictor.transform(jpeg(on_paper([digit(mnist_test, 7)]))).crops[0]
    vector = np.zeros(128, np.float32)
    one = _Span(crop, _row(7, 0.9), vector)
    agree = predictor._with_whole([one], _Span(crop, _row(7, 0.8), vector))
    disagree = predictor._with_whole([one], _Span(crop, _row(1, 0.8), vector))
    no_digit = predictor._with_whole([one], _Span(crop, _row(10, 0.9), vector))
    assert float(agree[0].row.max()) == pytest.approx(0.85)
    assert int(disagree[0].row[:10].argmax()) == 7 and float(disagree[0].row.max()) < 0.5
    assert no_digit == [one], "a whole frame that is no digit (a shadow's edge) changes nothing"
