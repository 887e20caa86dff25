"""Ink a person sees is ink the network sees: per render kind, how much of the true strokes the
transform keeps (recall) and how much of what it keeps is stroke (precision).

Each floor sits a little under what ``model.judging.strokes`` measured for the shipped transform
on 60 digits per kind (quoted in README); a change that drops strokes, or keeps shadows and
lines as ink, fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.data.render import Look, render
from model.judging.strokes import KINDS, score_kind
from model.reading.transform import DigitTransform

TRANSFORM = DigitTransform()
FLOORS = {
    # kind: (recall, precision) at least
    "paper": (0.97, 0.97),
    "ruled or squared": (0.97, 0.97),
    "grey paper, soft pen": (0.96, 0.96),
    "board": (0.96, 0.97),
    "screen": (0.98, 0.98),
    "filling the frame": (0.96, 0.97),
    "tight crop": (0.97, 0.97),
    "tiny crop": (0.95, 0.97),
    "gaps": (0.97, 0.97),
    "hand shadow": (0.96, 0.94),
    "table beyond the page": (0.97, 0.95),
    "uneven pressure": (0.9, 0.94),
    "faint pen": (0.82, 0.6),
    "faint thin pen, grey paper, small photo": (0.7, 0.65),
}


def test_every_kind_has_a_floor():
    assert set(FLOORS) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS))
def test_strokes_are_kept_and_only_strokes(kind, mnist_test):
    images, _ = mnist_test
    score = score_kind(TRANSFORM, kind, images[:30])
    recall, precision = FLOORS[kind]
    assert score.recall >= recall, score
    assert score.precision >= precision, score


def test_a_faint_stroke_that_continues_a_dark_one_is_kept(mnist_test):
    """Pressure falling along the strokes: hysteresis keeps the faint part that a threshold on the peak drops."""
    images, _ = mnist_test
    rendered = render([images[0]], np.random.default_rng(7), Look(pressure=True, shadow="none"))
    kept = TRANSFORM.kept_ink(rendered.image)
    assert rendered.overlap(kept).recall >= 0.9
