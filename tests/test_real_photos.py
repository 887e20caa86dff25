"""Real phone photos of handwriting: the measure that counts (``../shared/data/real-dev``).

Never trained on and never tuned to: a ratchet that only moves up as the reading of real
photos improves. The figures are those ``scripts.evaluate --real`` printed for the
shipped model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.local import ROOT
from model.data.sets import real_photos
from model.judging.evaluation import evaluate

REAL_DEV = Path(os.environ.get("DIGITBOT_REAL_DEV", ROOT.parent / "shared" / "data" / "real-dev"))
AT_LEAST = 97
"""Real-dev photos read right by the shipped model: raise it when the model gets better, never lower it."""
SURE_AND_WRONG_AT_MOST = 1


@pytest.fixture(scope="module")
def report(predictor):
    if not (REAL_DEV / "labels.csv").exists():
        pytest.skip(f"real photos not found under {REAL_DEV} (set DIGITBOT_REAL_DEV)")
    return evaluate(predictor, real_photos(REAL_DEV), "real")


def test_real_photos_are_read(report):
    right = sum(o.correct for o in report.outcomes)
    assert right >= AT_LEAST, [(o.group, o.label, o.reading.digits, o.reading.reason) for o in report.outcomes if not o.correct]


def test_no_sure_answer_is_wrong(report):
    assert report.confident_misreads <= SURE_AND_WRONG_AT_MOST


def test_every_writer_is_read(report):
    """A whole writer failing (tight crops, a shadow, a fat marker) is the kind of failure that hides in an average."""
    for writer, (right, total) in report.by_group().items():
        assert right >= total - 2, writer
