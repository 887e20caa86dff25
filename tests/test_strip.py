"""The strip stage and the number reader's decoding, on drawn photos and hand-made network outputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from devkit.photos import digit, on_paper
from model.reading.number_reader import BLANK, STRIDE, best_path, consensus, ctc_probabilities, string_probability
from model.reading.transform import DigitTransform, StripParams
from model.reading.transform.segment import Group
from model.reading.transform.strip import main_line


def test_the_strip_is_the_line_of_digits_at_a_fixed_height(mnist_test):
    photo = on_paper([digit(mnist_test, d) for d in (3, 5, 8)], height=90, size=(520, 300))
    strip = DigitTransform().strip(photo)
    assert strip is not None
    params = StripParams()
    assert strip.pixels.shape[0] == params.height
    assert 2.0 < strip.pixels.shape[1] / (params.height - 2 * params.margin) < 4.5  # three digits side by side
    assert strip.pixels.max() > 0.95 and strip.pixels.min() == 0.0
    x0, _, x1, _ = strip.box
    assert x0 >= 520 / 2 - 3 * 90 / 2 - 10 and x1 <= 520 / 2 + 3 * 90 / 2 + 10


def test_strip_columns_map_back_onto_the_photo(mnist_test):
    """The middle third of the strip's ink lies over the middle digit in the photo."""
    photo = on_paper([digit(mnist_test, d) for d in (1, 0, 7)], height=90, size=(520, 300), at=(100, 100))
    strip = DigitTransform().strip(photo)
    assert strip is not None
    ink = np.flatnonzero(strip.pixels.sum(axis=0) > 0)
    third = (ink[-1] - ink[0]) / 3
    middle = (int(ink[0] + third), int(ink[0] + 2 * third))
    left, top, right, bottom = strip.photo_box(middle)
    assert 190 - 20 <= left <= 190 + 25 and 280 - 25 <= right <= 280 + 20
    assert 100 - 5 <= top <= 140 and 150 <= bottom <= 190 + 5


def test_a_shape_off_the_line_is_left_out():
    number = [Group((10 + 40 * i, 100, 40 + 40 * i, 150), (i + 1,)) for i in range(4)]
    doodle = Group((60, 10, 90, 40), (9,))
    assert main_line([*number, doodle], 0.5) == number
    assert main_line([doodle], 0.5) == [doodle]


def test_ink_fainter_than_the_pen_leaves_no_trace():
    """A pattern a fifth as dark as the pen, touching the strokes, is not in the strip."""
    image = Image.new("L", (300, 120), 235)
    draw = ImageDraw.Draw(image)
    for y in range(0, 120, 6):
        draw.line([(0, y), (300, y + 20)], fill=205, width=1)
    draw.line([(100, 20), (100, 100)], fill=30, width=6)
    draw.ellipse([150, 20, 210, 100], outline=30, width=6)
    strip = DigitTransform().strip(image)
    assert strip is not None
    inked = strip.pixels > 0.05
    assert inked.mean() < 0.3
    columns = np.flatnonzero(inked.any(axis=0))
    gap = columns[(columns > strip.pixels.shape[1] * 0.2) & (columns < strip.pixels.shape[1] * 0.5)]
    assert len(gap) < 0.15 * strip.pixels.shape[1], "the pattern between the strokes stayed"


def _log_probs(path: list[int], sure: float = 0.9) -> np.ndarray:
    """Columns reading ``path`` (a class per column) with probability ``sure``, the rest spread evenly."""
    probs = np.full((len(path), BLANK + 1), (1 - sure) / BLANK, np.float32)
    for column, cls in enumerate(path):
        probs[column, cls] = sure
    return np.log(probs)


def test_the_best_path_drops_repeats_and_blanks():
    runs = best_path(_log_probs([BLANK, 1, 1, BLANK, 1, BLANK, 0, 0, 0, BLANK]))
    assert [d for d, _, _ in runs] == [1, 1, 0]
    assert [(first, end) for _, first, end in runs] == [(1, 3), (4, 5), (6, 9)]


def test_a_string_probability_sums_every_alignment():
    log_probs = _log_probs([BLANK, 4, 2, BLANK], sure=0.6)
    brute = 0.0
    for path in itertools.product(range(BLANK + 1), repeat=4):
        collapsed = [c for i, c in enumerate(path) if c != BLANK and (i == 0 or c != path[i - 1])]
        if collapsed == [4, 2]:
            brute += float(np.exp(sum(log_probs[i, c] for i, c in enumerate(path))))
    assert string_probability(log_probs, [4, 2]) == pytest.approx(brute, rel=1e-4)
    assert string_probability(log_probs, [4, 2]) > string_probability(log_probs, [4])


@pytest.mark.parametrize("seed", range(4))
def test_the_ctc_probabilities_are_torchs(seed):
    """The number reader's CTC (numpy, as the bot runs it) against torch's own, on strings of every
    length, repeated digits included, under strips of different widths."""
    rng = np.random.default_rng(seed)
    strips = [torch.log_softmax(torch.from_numpy(rng.normal(0, 3, (width, BLANK + 1)).astype(np.float32)), -1) for width in (3, 9, 17)]
    strings = [(), (4,), (1, 1), (7, 0, 7), tuple(int(d) for d in rng.integers(0, 10, 6))]
    pairs = [(string, each) for string in strings for each in strips if 2 * len(string) <= len(each)]
    ours = ctc_probabilities([(string, each.numpy()) for string, each in pairs])
    for (string, each), mine in zip(pairs, ours, strict=True):
        loss = torch.nn.functional.ctc_loss(
            each[:, None], torch.tensor([list(string)], dtype=torch.long), torch.tensor([len(each)]), torch.tensor([len(string)]),
            blank=BLANK, reduction="sum",
        )  # fmt: skip
        assert mine == pytest.approx(float(torch.exp(-loss)), rel=1e-4, abs=1e-12), string


def test_a_digit_ends_where_the_ink_is_thinnest_between_it_and_the_next():
    strip = np.zeros((28, 12 * STRIDE), np.float32)
    strip[4:24, 2:20] = 1.0
    strip[4:24, 23:44] = 1.0
    strip[10:12, 20:23] = 0.3  # a thin touch between the two
    reading = consensus([strip], [_log_probs([BLANK, 5, BLANK, BLANK, BLANK, BLANK, BLANK, 8, BLANK, BLANK, BLANK, BLANK], sure=0.96)])
    assert reading.text == "58"
    (_, first_end), (second_start, _) = reading.digits[0].span, reading.digits[1].span
    assert first_end == second_start and 20 <= first_end <= 23
    assert reading.digits[0].probabilities.sum() == pytest.approx(1.0)
    assert reading.confidence > 0.3


def test_readings_that_disagree_make_an_unsure_answer():
    """Of three readings, two say 42 and one 47: 42 is the answer, less sure than if all agreed."""
    strip = np.ones((28, 4 * STRIDE), np.float32)
    agree = [_log_probs([BLANK, 4, 2, BLANK])] * 3
    split = [_log_probs([BLANK, 4, 2, BLANK]), _log_probs([BLANK, 4, 7, BLANK]), _log_probs([BLANK, 4, 2, BLANK])]
    unanimous, divided = consensus([strip] * 3, agree), consensus([strip] * 3, split)
    assert unanimous.text == divided.text == "42"
    assert divided.confidence < 0.75 * unanimous.confidence
    assert consensus([strip], [_log_probs([BLANK, BLANK, BLANK, BLANK])]).digits == ()
