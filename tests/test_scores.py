"""The one way figures are computed (``model.judging.scores``), on cases small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.judging import scores


def test_accuracy_and_an_empty_set():
    assert scores.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert math.isnan(scores.accuracy([], []))


def test_per_digit_accuracy():
    result = scores.per_digit([1, 1, 7, 7, 2], [1, 7, 7, 7, 2])
    assert result[1] == 1.0 and result[7] == pytest.approx(2 / 3) and result[2] == 1.0
    assert np.isnan(result[[0, 3, 4, 5, 6, 8, 9]]).all()


def test_calibration_error_by_hand():
    # Two bins used: 0.95 (2 answers, 1 right: off by 0.45) and 0.55 (2 answers, both right: off by 0.45).
    error, rows = scores.calibration_error([0.95, 0.95, 0.55, 0.55], [1, 0, 1, 1])
    assert error == pytest.approx(0.45)
    assert [(round(conf, 6), hit, n) for conf, hit, n in rows] == [(0.55, 1.0, 2), (0.95, 0.5, 2)]
    assert scores.calibration_error([1.0, 1.0], [1, 1])[0] == 0.0
