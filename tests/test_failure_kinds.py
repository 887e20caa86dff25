"""Each kind of failure seen on real photos, drawn by the renderer or by hand, read by the shipped model.

The rendered kinds use a seed that neither training nor the benchmark sets use. Each
bound sits a little under what the shipped model reached (quoted beside it), so a
regression in the transform or the model fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.data import sets
from model.data.render import Look, on_canvas, photo_of
from model.data.styles import draw

SEED = 31337
KINDS = {
    # kind: (look, of 40 read right at least)
    "grey paper, soft marker": (Look(ground="grey"), 34),
    "tight crop touching the edges": (Look(framing="tight"), 34),
    "digit filling the frame": (Look(framing="fill"), 36),
    "tiny crop": (Look(tiny=True), 36),
    "strokes that don't touch": (Look(gaps=True), 32),
    "bluish hand shadow": (Look(shadow="tinted"), 35),
    "table beyond the page": (Look(page_edge=True), 36),
    "drawing app canvas": (Look(ground="screen", shadow="none"), 38),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_read(kind, predictor, mnist_test):
    images, labels = mnist_test
    look, at_least = KINDS[kind]
    picks = np.random.default_rng((SEED, 1)).integers(0, len(images), 40)
    right = sum(predictor.predict(photo_of([images[j]], SEED, i, look)).number == str(labels[j]) for i, j in enumerate(picks))
    assert right >= at_least, f"{kind}: {right}/40"


def test_any_size_from_5_to_95_percent_of_the_frame(predictor, mnist_test):
    """The issue's sweep on a sample: 4 digits at each size step, on white and on a photo of paper."""
    images, labels = mnist_test
    wrong = []
    for paper in (False, True):
        for sample in sets.size_sweep(images, labels, 4, seed=SEED, paper=paper):
            read = predictor.predict(sample.photo).number
            if read != sample.label:
                wrong.append((sample.group, paper, sample.label, read))
    assert len(wrong) <= 2, wrong


def test_a_digit_cut_by_the_frame_is_read(predictor, mnist_test):
    images, labels = mnist_test
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(images), 20)
    right = sum(predictor.predict(on_canvas(images[j], 1.0, rng, tight=True)).number == str(labels[j]) for j in picks)
    assert right >= 18


@pytest.mark.parametrize("style", ["open-top-4", "gapped-8", "open-9"])
def test_pieces_that_do_not_touch_are_one_digit(style, predictor):
    """An open-top 4 is not "61", a gapped 8 not "81", an open 9 not "01"."""
    label = style.split("-")[-1]
    reads = [predictor.predict(draw(style, np.random.default_rng((SEED, i)))).number for i in range(10)]
    assert sum(read == label for read in reads) >= 8, reads


def test_a_blank_page_beside_the_table_is_no_digit(predictor):
    """The table beyond a page's edge runs along a side of the frame: neither the shapes found on the
    page nor the whole frame read as one digit may take it for a 1. (Before the whole frame left it
    out: 34 of 90 "no digit", 22 read at >= 80%; since: 49 and 10. Shadows' remnants make the rest.)"""
    blank = np.zeros((28, 28), np.uint8)
    looks = [Look(page_edge=True, lines=lines) for lines in ("plain", "ruled", "squared")]
    readings = [predictor.predict(photo_of([blank], SEED, i, look)) for look in looks for i in range(30)]
    assert sum(not reading.items for reading in readings) >= 45
    assert sum(reading.confidence >= 0.8 for reading in readings) <= 13
