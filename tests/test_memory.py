"""A person's memory of corrected shapes (``model.reading.memory``): the rules, the calibration, the predictor's use of it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from devkit.photos import digit, jpeg, on_paper
from model.data.styles import draw
from model.learning.memory_calibration import calibrate
from model.reading.memory import DIMS, Memory, MemoryParams, Shape, recall

ON = MemoryParams(threshold=0.3, ratio=0.8, precision=0.9)


def unit(*values: float) -> np.ndarray:
    v = np.zeros(DIMS, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def probabilities(**p: float) -> np.ndarray:
    out = np.full(10, 0.0, np.float32)
    for digit_, value in p.items():
        out[int(digit_[1:])] = value
    return out


def memory(*rows: tuple[np.ndarray, int]) -> Memory:
    return Memory(np.arange(10, 10 + len(rows), dtype=np.int64), np.array([r[1] for r in rows]), np.stack([r[0] for r in rows]))


SQUARE = unit(1, 0.2)


def test_a_near_shape_takes_the_remembered_label():
    found = recall(unit(1, 0.25), memory((SQUARE, 9)), ON)
    assert found is not None and found.label == 9 and found.memory_id == 10 and found.distance < 0.01


def test_a_far_shape_keeps_the_networks_reading():
    assert recall(unit(0, 1), memory((SQUARE, 9)), ON) is None


def test_a_sure_misread_is_recalled_too():
    """The network's own probability does not count: a 7 it is 98% sure of is read 9 when it is
    drawn like the 9 this person corrected (``Shape`` keeps the probabilities for calibration only)."""
    sure_7 = Shape(unit(1, 0.25), probabilities(d7=0.98, d9=0.02), 9)
    found = recall(sure_7.vector, memory((SQUARE, 9)), ON)
    assert sure_7.read == 7 and found is not None and found.label == 9


def test_a_torn_memory_leaves_the_reading_to_the_network():
    torn = memory((SQUARE, 9), (unit(1, 0.3), 7))
    assert recall(unit(1, 0.25), torn, ON) is None
    clear = memory((SQUARE, 9), (unit(0, 1), 7))
    assert recall(unit(1, 0.25), clear, ON) is not None


def test_no_threshold_or_no_memory_is_off():
    assert recall(unit(1, 0.2), memory((SQUARE, 9)), MemoryParams()) is None
    assert recall(unit(1, 0.2), Memory.empty(), ON) is None


def test_calibration_stops_at_the_first_threshold_that_breaks_ordinary_digits():
    """Ordinary digits a distance 0.2 from a remembered one with another label are broken from
    threshold 0.2 on; the chosen threshold stays below it."""
    rng = np.random.default_rng(0)
    remembered = [Shape(unit(*rng.normal(size=8)), probabilities(d1=0.9, d2=0.1), 2) for _ in range(100)]
    victim = remembered[0].vector
    near = victim.copy()
    near[20] = 0.72  # a component no remembered vector has: cosine distance ~0.2 to the first one
    near /= np.linalg.norm(near)
    queries = [Shape(near, probabilities(d1=0.9, d2=0.1), 1) for _ in range(5)]  # read 1, rightly; memory says 2
    chosen, trials = calibrate(remembered + queries, [], MemoryParams(ratio=1.0))
    distance = 1 - float(near @ victim)
    assert 0.15 < distance < 0.25
    assert chosen.threshold < distance <= chosen.threshold + 0.01 + 1e-9
    assert next(t for t in trials if t.threshold >= distance).broken == 5


@pytest.fixture(scope="module")
def remembered_square_9s(predictor):
    """Three corrected square-looped 9s of one person, as the bot keeps them."""
    rng = np.random.default_rng(77)
    readings = [predictor.predict(draw("square-9", rng)) for _ in range(3)]
    vectors = np.stack([r.items[0].vector for r in readings])
    return Memory(np.arange(3, dtype=np.int64), np.full(3, 9), vectors), rng


def test_the_predictor_reads_as_the_person_corrected_and_says_so(predictor, remembered_square_9s):
    mine, rng = remembered_square_9s
    assert predictor.memory.threshold > 0, "the shipped card carries a calibrated threshold"
    photos = [draw("square-9", rng) for _ in range(20)]
    plain = [predictor.predict(p) for p in photos]
    recalled = [predictor.predict(p, mine) for p in photos]
    assert sum(r.number == "9" for r in plain) <= 10, "the network alone misreads this style"
    assert sum(r.number == "9" for r in recalled) >= 14
    for before, after in zip(plain, recalled, strict=True):
        assert len(after.items) == len(before.items), "the memory changes digits, never how many"
        for was, item in zip(before.items, after.items, strict=True):
            if item.recalled is None:
                assert item.digit == was.digit
            else:
                assert item.digit == 9 and item.confidence == predictor.memory.precision
                assert item.top == was.top, "the network's own reading is kept beside the memory's"


def test_ordinary_digits_of_the_same_person_are_left_alone(predictor, remembered_square_9s, mnist_test):
    mine, _ = remembered_square_9s
    for d in range(10):
        photo = jpeg(on_paper([digit(mnist_test, d, 2)]))
        assert predictor.predict(photo, mine).number == predictor.predict(photo).number


def test_stored_inputs_give_the_vectors_a_reading_gave(predictor, mnist_test):
    """A correction's vectors are computed later from the 28x28 inputs kept with the prediction."""
    reading = predictor.predict(jpeg(on_paper([digit(mnist_test, 4), digit(mnist_test, 2)])))
    stored = np.stack([(item.pixels * 255).round().astype(np.uint8) for item in reading.items])
    again = predictor.embed(stored)
    for item, vector in zip(reading.items, again, strict=True):
        assert float(item.vector @ vector) > 0.999


def test_a_memory_another_model_made_is_never_compared(predictor, remembered_square_9s):
    """The version travels on the memory: vectors of another network mean nothing to this one."""
    mine, rng = remembered_square_9s
    photos = [draw("square-9", rng) for _ in range(20)]
    same = dataclasses.replace(mine, version=predictor.version)
    older = dataclasses.replace(mine, version="v0")
    assert [predictor.predict(p, same).number for p in photos] == [predictor.predict(p, mine).number for p in photos]
    assert [predictor.predict(p, older).number for p in photos] == [predictor.predict(p).number for p in photos]
    assert any(predictor.predict(p, same).number != predictor.predict(p).number for p in photos)
