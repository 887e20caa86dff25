"""Ink a person sees is ink the network sees: per render kind, how much of the true strokes the
transform keeps (recall) and how much of what it keeps is stroke (precision).

Each floor sits a little under what ``model.judging.strokes`` measured for the shipped transform
on 60 digits per kind (quoted in README; the test reads 30); a change that drops strokes, or
keeps shadows and lines as ink, fails here. Three kinds stay under the issue's 90%: said there.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from model.data.render import Look, render
from model.data.truth import Overlap
from model.judging.strokes import KINDS, score_kind
from model.reading.transform import DigitTransform, TransformParams

TRANSFORM = DigitTransform()
FLOORS = {
    # kind: (recall, precision) at least; measured on 60 digits: README's table
    "paper": (0.98, 0.97),
    "ruled or squared": (0.97, 0.95),
    "grey paper, soft pen": (0.97, 0.95),
    "board": (0.98, 0.98),
    "screen": (0.98, 0.98),
    "filling the frame": (0.97, 0.97),
    "tight crop": (0.97, 0.97),
    "tiny crop": (0.97, 0.97),
    "gaps": (0.97, 0.97),
    "hand shadow": (0.97, 0.8),
    "table beyond the page": (0.97, 0.95),
    "uneven pressure": (0.95, 0.95),
    "faint pen": (0.88, 0.6),
    "faint thin pen, grey paper, small photo": (0.78, 0.68),
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
    """Pressure falling along the strokes: hysteresis keeps faint parts that a threshold on the peak alone drops."""
    images, _ = mnist_test
    params = TransformParams()
    peak_only = DigitTransform(replace(params, segment=replace(params.segment, weak_threshold=params.segment.relative_threshold)))
    pooled = {"hysteresis": Overlap(), "peak only": Overlap()}
    for i in range(30):
        rendered = render([images[i]], np.random.default_rng((7, i)), Look(pressure=True, shadow="none"))
        pooled["hysteresis"] += rendered.overlap(TRANSFORM.kept_ink(rendered.image))
        pooled["peak only"] += rendered.overlap(peak_only.kept_ink(rendered.image))
    assert pooled["hysteresis"].recall >= pooled["peak only"].recall + 0.01, pooled
    assert pooled["hysteresis"].precision >= pooled["peak only"].precision - 0.005, pooled
