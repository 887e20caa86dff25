"""The plainest digits are never "not a digit": every lone stroke reads 1, every ring or oval reads 0.

The sweeps (``model.data.sweeps``) cover hairline to marker, 30% to 95% of the frame, a tilt up
to 25 degrees, on white, grey and squared paper. Training draws the same kinds of shape at
random from its own seed, so these grids are never trained on.
"""

from __future__ import annotations

import numpy as np

from model.data import sweeps
from model.data.digits import Seen, drawn_sets
from model.data.shapes import non_digits
from model.reading.transform import TransformParams


def test_every_single_stroke_reads_one(predictor):
    wrong = [(s, r.number or r.reason) for s in sweeps.strokes() if (r := predictor.predict(sweeps.photo(s))).number != "1"]
    assert not wrong, wrong[:10]


def test_every_ring_and_oval_reads_zero(predictor):
    wrong = [(s, r.number or r.reason) for s in sweeps.rings() if (r := predictor.predict(sweeps.photo(s))).number != "0"]
    assert not wrong, wrong[:10]


def test_the_sweep_spans_what_the_issue_asks():
    strokes = list(sweeps.strokes())
    assert {s.paper for s in strokes} == {"white", "grey", "squared"}
    assert min(s.length for s in strokes) == 0.3 and max(s.length for s in strokes) == 0.95
    assert max(abs(s.tilt) for s in strokes) == 25
    assert min(s.width for s in strokes) * sweeps.SIDE <= 1.5 <= 15 <= max(s.width for s in strokes) * sweeps.SIDE


def test_plain_training_digits_are_strokes_and_rings_with_their_labels():
    images, labels = sweeps.plain_digits(200, seed=5)
    assert set(labels.tolist()) == {0, 1}
    ones, zeros = images[labels == 1], images[labels == 0]
    # a 1 has its ink along one line: a ring has a hole in the middle
    assert np.median([(img[12:16, 12:16] > 128).mean() for img in zeros]) == 0
    assert np.median([(img > 128).sum() for img in ones]) < np.median([(img > 128).sum() for img in zeros])


def test_a_drawing_the_transform_did_not_see_whole_is_not_learned_from():
    """Non-digit photos are learned from only when nearly all of the drawing reached the network."""
    params = TransformParams()
    count = 120
    everything, _ = drawn_sets("non-digits", count, 0, params, seed=3, seen=Seen(), workers=1)
    whole, _ = drawn_sets("non-digits", count, 0, params, seed=3, seen=Seen(recall=0.9, precision=0.8), workers=1)
    strict, _ = drawn_sets("non-digits", count, 0, params, seed=3, seen=Seen(recall=1.0, precision=1.0), workers=1)
    assert len(strict.labels) < len(whole.labels) <= len(everything.labels)
    assert len(non_digits(count, 3)) == count
