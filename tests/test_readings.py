"""Readings kept photo by photo: a run compared with itself moves nothing, a changed answer is counted."""

from __future__ import annotations

import pytest
from PIL import Image

from model.data import sets
from model.judging import readings
from model.judging.evaluation import compare


@pytest.fixture
def digits(mnist_test):
    images, labels = mnist_test
    return list(sets.mnist(images, labels, 12))


def test_a_run_read_again_moves_no_answer(predictor, digits, tmp_path):
    path = tmp_path / "readings.jsonl"
    readings.write(compare([predictor], digits, "mnist"), path)
    assert len(path.read_text().splitlines()) == len(digits)
    [difference] = readings.against(compare([predictor], digits, "mnist"), path)
    assert (difference.name, difference.photos, difference.answers, difference.confidence) == ("mnist", 12, 0, 0.0)


def test_a_changed_answer_is_counted_and_other_sets_are_left_out(predictor, digits, tmp_path):
    path = tmp_path / "readings.jsonl"
    readings.write(compare([predictor], digits, "mnist"), path)
    blank = sets.Sample(Image.new("L", (28, 28)), digits[3].label)
    changed = compare([predictor], [*digits[:3], blank, *digits[4:]], "mnist")
    unseen = compare([predictor], digits[:2], "screen")
    [difference] = readings.against(changed + unseen, path)
    assert (difference.name, difference.answers) == ("mnist", 1)


def test_a_set_read_at_another_size_is_refused(predictor, digits, tmp_path):
    path = tmp_path / "readings.jsonl"
    readings.write(compare([predictor], digits, "mnist"), path)
    with pytest.raises(ValueError, match="same sizes"):
        readings.against(compare([predictor], digits[:5], "mnist"), path)
