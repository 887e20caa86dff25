"""Training as one function driven by one config: what ``scripts.train`` runs.

MNIST, photo-like renders of it, drawings of non-digits and the plainest digits (lone strokes,
rings), all through the shared transform, each digit in its two views; a fit that sees a fresh
share of raw MNIST each epoch; a temperature fitted where the answers matter (validation photos,
both views averaged as the predictor averages them); a model card that records every figure,
transform parameter, size, seed and the revision that trained.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.data.digits import Digits, Seen, concat, drawn_sets, load_mnist, transform_digits
from model.judging import scores
from model.learning import versions
from model.learning.fit import FitConfig, Stopwatch, fit, fit_temperature, logits_of, view_probabilities
from model.learning.network import DigitNet
from model.reading import registry
from model.reading.classes import NOT_A_DIGIT
from model.reading.transform import DigitTransform, TransformParams


@dataclass(frozen=True)
class TrainConfig:
    """Every size and seed of a training run; the defaults made the shipped model."""

    out: Path = Path("models")
    data_root: str = "data"
    download: bool = True
    epochs: int = 9
    photos: int = 24000
    non_digits: int = 4000
    plain: int = 3000
    """Lone strokes and rings (1 and 0), half drawn, half as photos."""
    limit: int = 0
    """Use only this many MNIST training digits (smoke runs); 0 for all."""
    raw_share: float = 0.6
    """The share of raw MNIST each epoch sees (fresh each epoch); all renders are seen every epoch (one view of each, on average)."""
    digit_seen: Seen = field(default_factory=lambda: Seen(recall=0.7, precision=0.6))
    """A digit's photo is learned from only when the transform kept this much of it (``model.data.digits.Seen``) ..."""
    shape_seen: Seen = field(default_factory=lambda: Seen(recall=0.9, precision=0.8))
    """... and a drawing's (non-digits, plain digits) only when it kept nearly all: part of a star is a stroke, a 1."""
    workers: int = 2
    promote: bool = True
    seed: int = 0
    """Fitting, and the raw MNIST transforms."""
    photo_seed: int = 1
    validation_photo_seed: int = 2
    non_digit_seed: int = 0
    plain_seed: int = 5


VALIDATION = 5000


@dataclass(frozen=True)
class Prepared:
    train: Digits
    weights: np.ndarray
    """How often each sample is drawn per epoch, relative to the others."""
    validation: dict[str, Digits]
    counts: dict[str, int]


def split(images: np.ndarray, labels: np.ndarray, limit: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The last 5,000 training digits (or a tenth of a limited set) are held out for validation."""
    if limit:
        images, labels = images[:limit], labels[:limit]
    held = min(VALIDATION, max(1, len(images) // 10))
    return (images[:-held], labels[:-held]), (images[-held:], labels[-held:])


def prepare(config: TrainConfig, params: TransformParams) -> Prepared:
    """Every training and validation sample through the transform, and how often each is drawn."""
    c, workers = config, config.workers
    images, labels = load_mnist(c.data_root, train=True, download=c.download)
    (train_x, train_y), (val_x, val_y) = split(images, labels, c.limit)
    photos = min(c.photos, len(train_x))
    val_photos = min(len(val_x), max(1, photos // 8))
    raw = transform_digits(train_x, train_y, params, photo=False, seed=c.seed, workers=workers, desc="mnist")
    photo = transform_digits(train_x[:photos], train_y[:photos], params, True, c.photo_seed, workers, "photos", seen=c.digit_seen)
    count = min(c.non_digits, len(train_x) // 10)
    negatives, val_negatives = drawn_sets("non-digits", count, max(2, count // 10), params, c.non_digit_seed, c.shape_seen, workers)
    plain_count = min(c.plain, len(train_x) // 10)
    plain, val_plain = drawn_sets("plain", plain_count, max(2, plain_count // 10), params, c.plain_seed, c.shape_seen, workers)
    validation = {
        "mnist": transform_digits(val_x, val_y, params, photo=False, seed=c.seed, workers=workers, desc="val mnist"),
        "photo": transform_digits(val_x[:val_photos], val_y[:val_photos], params, True, c.validation_photo_seed, workers, "val photos"),
        "non_digits": val_negatives,
        "plain": val_plain,
    }
    train = concat(raw, photo, negatives, plain)
    # Raw MNIST is the easy part: each epoch sees a fresh share of it. Every sample is one of two views.
    share = np.concatenate([np.full(len(raw.labels), c.raw_share), np.ones(len(train.labels) - len(raw.labels))])
    counts = {"mnist_train": len(raw.labels), "photo_renders": len(photo.labels), "non_digits": len(negatives.labels)}
    counts["plain_digits"] = len(plain.labels)
    return Prepared(train, (share / 2).astype(np.float32), validation, counts)


def run(config: TrainConfig) -> Path:
    """Prepare the data, fit, calibrate, write the card, promote; returns the weights' path."""
    clock = Stopwatch()
    revision = registry.git_revision()  # the code that trains: HEAD may move during a 15-minute run
    torch.manual_seed(config.seed)
    params = TransformParams()
    transform = DigitTransform(params)
    data = prepare(config, params)
    prepared = clock.seconds()
    model = DigitNet()
    epoch = int(data.weights.sum())
    losses = fit(model, data.train, transform, FitConfig(epochs=config.epochs, seed=config.seed, samples_per_epoch=epoch), data.weights)
    temperature, metrics = calibrate(model, data.validation, transform)
    card = _card(config, model, params, data, temperature, metrics)
    card["training"] |= {"samples_per_epoch": epoch, "epoch_losses": [round(x, 4) for x in losses], "data_seconds": prepared}
    card["training"]["seconds"] = clock.seconds()
    card["git_revision"] = revision
    return promote(config, model, card)


def calibrate(model: DigitNet, validation: dict[str, Digits], transform: DigitTransform) -> tuple[float, dict[str, float]]:
    """The temperature that makes photos' confidences honest (validation photos and drawings, both
    views averaged, as the predictor reads them; raw MNIST, far easier, would make photos overconfident),
    and the validation figures."""
    logits = {name: logits_of(model, digits.pixels, transform) for name, digits in validation.items()}
    photos = ("photo", "non_digits", "plain")
    fitted = torch.cat([logits[name] for name in photos])
    labels = torch.from_numpy(np.concatenate([validation[name].labels for name in photos]))
    temperature = fit_temperature(fitted, labels, views=2)
    metrics: dict[str, float] = {}
    for name, digits in validation.items():
        probs = view_probabilities(logits[name], temperature, views=2)
        truth = digits.labels[::2]
        confidence, read = probs.max(1)
        metrics[f"val_{name}_accuracy"] = scores.accuracy(read.numpy(), truth)
        if name != "non_digits":
            metrics[f"val_{name}_rejected"] = float((read == NOT_A_DIGIT).float().mean())
            metrics[f"val_{name}_ece"] = scores.calibration_error(confidence.numpy(), (read.numpy() == truth))[0]
    return temperature, metrics


def _card(
    config: TrainConfig, model: DigitNet, params: TransformParams, data: Prepared, temperature: float, metrics: dict[str, float]
) -> dict[str, Any]:
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "architecture": "DigitNet",
        "parameters": sum(p.numel() for p in model.parameters()),
        "temperature": temperature,
        "transform": params.to_dict(),
        "metrics": metrics,
        "data": data.counts
        | {
            "validation": {name: len(digits.labels) for name, digits in data.validation.items()},
            "views": "every digit twice: DigitCrop.pixels (grey) and .solid",
            "source": "MNIST training set (torchvision); photo renders by model.data.render; "
            "non-digits by model.data.shapes; lone strokes and rings by model.data.sweeps",
        },
        "training": {
            "epochs": config.epochs,
            "seed": config.seed,
            "config": {k: v for k, v in asdict(config).items() if k != "out"},  # every size and seed
            "torch": torch.__version__,
        },
    }


def promote(config: TrainConfig, model: DigitNet, card: dict[str, Any]) -> Path:
    """A new registry version; ``current`` moves to it unless told not to."""
    version = registry.next_version(config.out)
    card = {"version": version} | card
    path = versions.save(config.out, version, model.state_dict(), card)
    if config.promote:
        registry.set_current(config.out, version)
    print(f"wrote {path} in {card['training']['seconds']} s: {card['metrics']}")
    return path
