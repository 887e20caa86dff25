"""Training as one function driven by one config: what ``scripts.train`` runs.

MNIST, photo-like renders of it and drawings of non-digits, all through the shared
transform; a fit that sees a fresh share of raw MNIST each epoch; a temperature fitted on
validation data of the same mix; a model card that records every figure, transform
parameter, size, seed and the revision that trained.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from model.data.digits import concat, load_mnist, non_digit_sets, transform_digits
from model.judging import scores
from model.learning.fit import FitConfig, Stopwatch, fit, fit_temperature, logits_of
from model.reading import registry
from model.reading.network import NOT_A_DIGIT, DigitNet
from model.reading.transform import DigitTransform, TransformParams


@dataclass(frozen=True)
class TrainConfig:
    """Every size and seed of a training run; the defaults made the shipped model."""

    out: Path = Path("models")
    data_root: str = "data"
    download: bool = True
    epochs: int = 11
    photos: int = 24000
    non_digits: int = 4000
    limit: int = 0
    """Use only this many MNIST training digits (smoke runs); 0 for all."""
    raw_share: float = 0.6
    """The share of raw MNIST each epoch sees (fresh each epoch); all renders are seen every epoch."""
    workers: int = 2
    promote: bool = True
    seed: int = 0
    """Fitting, and the raw MNIST transforms."""
    photo_seed: int = 1
    validation_photo_seed: int = 2
    non_digit_seed: int = 0


VALIDATION = 5000


def split(images: np.ndarray, labels: np.ndarray, limit: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The last 5,000 training digits (or a tenth of a limited set) are held out for validation."""
    if limit:
        images, labels = images[:limit], labels[:limit]
    held = min(VALIDATION, max(1, len(images) // 10))
    return (images[:-held], labels[:-held]), (images[-held:], labels[-held:])


def run(config: TrainConfig) -> Path:
    """Prepare the data, fit, calibrate on the mixed validation set, write the card; returns the weights' path."""
    clock = Stopwatch()
    revision = registry.git_revision()  # the code that trains: HEAD may move during a 15-minute run
    torch.manual_seed(config.seed)
    params = TransformParams()
    transform = DigitTransform(params)
    images, labels = load_mnist(config.data_root, train=True, download=config.download)
    (train_x, train_y), (val_x, val_y) = split(images, labels, config.limit)
    photos = min(config.photos, len(train_x))
    val_photos = min(len(val_x), max(1, photos // 8))
    raw = transform_digits(train_x, train_y, params, photo=False, seed=config.seed, workers=config.workers, desc="mnist")
    photo = transform_digits(
        train_x[:photos], train_y[:photos], params, photo=True, seed=config.photo_seed, workers=config.workers, desc="photos"
    )
    val_raw = transform_digits(val_x, val_y, params, photo=False, seed=config.seed, workers=config.workers, desc="val mnist")
    val_photo = transform_digits(
        val_x[:val_photos],
        val_y[:val_photos],
        params,
        photo=True,
        seed=config.validation_photo_seed,
        workers=config.workers,
        desc="val photos",
    )
    count = min(config.non_digits, len(train_x) // 10)
    negatives, val_negatives = non_digit_sets(count, max(2, count // 10), params, config.non_digit_seed, config.workers)
    train = concat(raw, photo, negatives)
    prepared = clock.seconds()

    model = DigitNet()
    # Raw MNIST is the easy part: each epoch sees a fresh share of it and all of the rest.
    weights = np.concatenate([np.full(len(raw.labels), config.raw_share), np.ones(len(train.labels) - len(raw.labels))]).astype(np.float32)
    epoch = int(weights.sum())
    losses = fit(model, train, transform, FitConfig(epochs=config.epochs, seed=config.seed, samples_per_epoch=epoch), weights)

    validation = concat(val_raw, val_photo, val_negatives)
    val_logits = logits_of(model, validation.pixels, transform)
    val_labels = torch.from_numpy(validation.labels)
    temperature = fit_temperature(val_logits, val_labels)
    sizes = [len(val_raw.labels), len(val_photo.labels), len(val_negatives.labels)]
    raw_logits, photo_logits, negative_logits = torch.split(val_logits, sizes)
    digits_rejected = float((torch.cat([raw_logits, photo_logits]).argmax(1) == NOT_A_DIGIT).float().mean())
    version = registry.next_version(config.out)
    card: dict[str, Any] = {
        "version": version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "architecture": "DigitNet",
        "parameters": sum(p.numel() for p in model.parameters()),
        "temperature": temperature,
        "transform": params.to_dict(),
        "metrics": {
            "val_mnist_accuracy": scores.accuracy(raw_logits.argmax(1).numpy(), val_raw.labels),
            "val_photo_accuracy": scores.accuracy(photo_logits.argmax(1).numpy(), val_photo.labels),
            "val_non_digits_rejected": scores.accuracy(negative_logits.argmax(1).numpy(), val_negatives.labels),
            "val_digits_rejected": digits_rejected,
            "val_ece_before_calibration": _ece(val_logits, val_labels, 1.0),
            "val_ece": _ece(val_logits, val_labels, temperature),
        },
        "data": {
            "mnist_train": len(raw.labels),
            "photo_renders": len(photo.labels),
            "non_digits": len(negatives.labels),
            "validation": {"mnist": len(val_raw.labels), "photo": len(val_photo.labels), "non_digits": len(val_negatives.labels)},
            "source": "MNIST training set (torchvision); photo renders by model.data.render; non-digits by model.data.shapes",
        },
        "training": {
            "epochs": config.epochs,
            "samples_per_epoch": epoch,
            "epoch_losses": [round(x, 4) for x in losses],
            "seed": config.seed,
            "config": {k: v for k, v in asdict(config).items() if k != "out"},  # every size and seed
            "data_seconds": prepared,
            "seconds": clock.seconds(),
            "torch": torch.__version__,
        },
        "git_revision": revision,
    }
    path = registry.save(config.out, version, model.state_dict(), card)
    if config.promote:
        registry.set_current(config.out, version)
    print(f"wrote {path} in {card['training']['seconds']} s: {card['metrics']}")
    return path


def _ece(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    confidence, predicted = F.softmax(logits / temperature, 1).max(1)
    return scores.calibration_error(confidence.numpy(), (predicted == labels).numpy())[0]
