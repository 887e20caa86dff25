"""A tiny training run: the real script end to end on a few hundred digits."""

from __future__ import annotations

import json

from safetensors.torch import load_file

from devkit.local import DATA_ROOT
from model.learning.network import DigitNet
from model.reading import registry
from model.reading.predictor import Predictor
from scripts import train


def tiny(out, limit: int, photos: int, epochs: int) -> list[str]:
    """Arguments of a training run small enough for a test, on the offline MNIST copy, one worker."""
    return ["--data-root", str(DATA_ROOT), "--no-download", "--out", str(out), "--limit", str(limit), "--photos", str(photos),
            "--epochs", str(epochs), "--workers", "1"]  # fmt: skip


def test_tiny_training_run_writes_weights_and_card(tmp_path, mnist_test):
    out = tmp_path / "models"
    path = train.main(tiny(out, limit=800, photos=200, epochs=3))
    assert path == out / "v1.safetensors"
    assert registry.current_version(out) == "v1"
    card = json.loads((out / "v1.json").read_text())
    losses = card["training"]["epoch_losses"]
    assert losses[-1] < losses[0]
    assert card["version"] == "v1" and card["temperature"] > 0
    assert card["transform"]["crop"]["canvas"] == 28 and card["transform"]["crop"]["mean"] == 0.1307
    assert set(card["metrics"]) >= {
        "val_mnist_accuracy",
        "val_photo_accuracy",
        "val_photo_ece",
        "val_non_digits_accuracy",
        "val_plain_accuracy",
    }
    assert card["data"]["mnist_train"] > 0 and card["data"]["photo_renders"] > 0 and card["data"]["non_digits"] > 0
    assert path.stat().st_size < 2 * 1024 * 1024
    assert set(load_file(str(path))) == set(DigitNet().state_dict())
    assert Predictor.load(out).version == "v1", "served from its exports"
    assert card["metrics"]["val_mnist_accuracy"] > 0.5


def test_second_run_is_a_new_version_and_can_stay_unpromoted(tmp_path, mnist_test):
    out = tmp_path / "models"
    args = tiny(out, limit=200, photos=20, epochs=1)
    train.main(args)
    train.main([*args, "--no-promote"])
    assert registry.versions(out) == ["v1", "v2"]
    assert registry.current_version(out) == "v1"
