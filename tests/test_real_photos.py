"""Real phone photos of handwriting: the measure that counts (``../shared/data/real-dev``).

Never trained on and never tuned to: a ratchet that only moves up as the reading of real
photos improves, on real-dev and on its faint-and-small and small versions. The figures are
those ``scripts.evaluate --real`` printed for the shipped model.
"""

from __future__ import annotations

import pytest

from devkit.local import REAL_DEV
from model.data.sets import derived, real_photos
from model.judging.evaluation import evaluate
from model.judging.reference import digit_span

AT_LEAST = {"real": 212, "real_faint_small": 197, "real_small": 201}
"""Photos read right by the shipped model, of real-dev (215) and of its two derived sets (206 each):
raise them when the model gets better, never lower them."""
SURE_AND_WRONG_AT_MOST = {"real": 0, "real_faint_small": 2, "real_small": 1}


@pytest.fixture(scope="module", params=list(AT_LEAST))
def report(request, predictor):
    if not (REAL_DEV / "labels.csv").exists():
        pytest.skip(f"real photos not found under {REAL_DEV} (set DIGITBOT_REAL_DEV)")
    real = real_photos(REAL_DEV)
    samples = real if request.param == "real" else derived(request.param, real, digit_span)
    return evaluate(predictor, samples, request.param)


def test_real_photos_are_read(report):
    right = sum(o.correct for o in report.outcomes)
    wrong = [(o.group, o.label, o.reading.number, o.reading.reason) for o in report.outcomes if not o.correct]
    assert right >= AT_LEAST[report.name], wrong


def test_no_sure_answer_is_wrong(report):
    assert report.confident_misreads <= SURE_AND_WRONG_AT_MOST[report.name]


def test_every_writer_is_read(report):
    """A whole writer failing (tight crops, a shadow, a fat marker) is the kind of failure that hides in an average.
    Held on real-dev itself; on the derived sets one writer still loses 4 of 10 (README), a target not met."""
    if report.name != "real":
        pytest.skip("held on real-dev only: see README for the derived sets per writer")
    for writer, (right, total) in report.by_group().items():
        assert right >= total - 2, writer
