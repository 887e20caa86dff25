"""Train the digit CNN on MNIST, photo-like renders of it and drawings of non-digits; calibrate; register.

python -m scripts.train --data-root ../shared/data --out models
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from model import registry, scores
from model.data import concat, load_mnist, non_digit_sets, transform_digits
from model.network import NOT_A_DIGIT, DigitNet
from model.training import FitConfig, Stopwatch, fit, fit_temperature, logits_of
from model.transform import DigitTransform, TransformParams

VALIDATION = 5000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--out", type=Path, default=Path("models"), help="model registry directory")
    parser.add_argument("--epochs", type=int, default=11)
    parser.add_argument("--photos", type=int, default=24000, help="photo-like renders of training digits")
    parser.add_argument("--non-digits", type=int, default=4000, help="drawings of non-digits, half of them as photos")
    parser.add_argument("--limit", type=int, default=0, help="use only this many MNIST training digits (smoke runs)")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering and transforming")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-promote", action="store_true", help="write the version but leave 'current' alone")
    return parser.parse_args(argv)


def split(images: np.ndarray, labels: np.ndarray, limit: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The last 5,000 training digits (or a tenth of a limited set) are held out for validation."""
    if limit:
        images, labels = images[:limit], labels[:limit]
    held = min(VALIDATION, max(1, len(images) // 10))
    return (images[:-held], labels[:-held]), (images[-held:], labels[-held:])


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    clock = Stopwatch()
    revision = registry.git_revision()  # the code that trains: HEAD may move during a 15-minute run
    torch.manual_seed(args.seed)
    params = TransformParams()
    transform = DigitTransform(params)
    images, labels = load_mnist(args.data_root, train=True, download=not args.no_download)
    (train_x, train_y), (val_x, val_y) = split(images, labels, args.limit)
    photos = min(args.photos, len(train_x))
    val_photos = min(len(val_x), max(1, photos // 8))
    raw = transform_digits(train_x, train_y, params, photo=False, seed=args.seed, workers=args.workers, desc="mnist")
    photo = transform_digits(
        train_x[:photos], train_y[:photos], params, photo=True, seed=args.seed + 1, workers=args.workers, desc="photos"
    )
    val_raw = transform_digits(val_x, val_y, params, photo=False, seed=args.seed, workers=args.workers, desc="val mnist")
    val_photo = transform_digits(
        val_x[:val_photos], val_y[:val_photos], params, photo=True, seed=args.seed + 2, workers=args.workers, desc="val photos"
    )
    count = min(args.non_digits, len(train_x) // 10)
    negatives, val_negatives = non_digit_sets(count, max(2, count // 10), params, args.seed, args.workers)
    train = concat(raw, photo, negatives)
    prepared = clock.seconds()

    model = DigitNet()
    # Raw MNIST is the easy part: each epoch sees a fresh 60% of it and all of the rest.
    weights = np.concatenate([np.full(len(raw.labels), 0.6), np.ones(len(train.labels) - len(raw.labels))]).astype(np.float32)
    epoch = int(weights.sum())
    losses = fit(model, train, transform, FitConfig(epochs=args.epochs, seed=args.seed, samples_per_epoch=epoch), weights)

    validation = concat(val_raw, val_photo, val_negatives)
    val_logits = logits_of(model, validation.pixels, transform)
    val_labels = torch.from_numpy(validation.labels)
    temperature = fit_temperature(val_logits, val_labels)
    sizes = [len(val_raw.labels), len(val_photo.labels), len(val_negatives.labels)]
    raw_logits, photo_logits, negative_logits = torch.split(val_logits, sizes)
    digits_rejected = float((torch.cat([raw_logits, photo_logits]).argmax(1) == NOT_A_DIGIT).float().mean())
    version = registry.next_version(args.out)
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
            "source": "MNIST training set (torchvision); photo renders by model.render; non-digits by model.shapes",
        },
        "training": {
            "epochs": args.epochs,
            "samples_per_epoch": epoch,
            "epoch_losses": [round(x, 4) for x in losses],
            "seed": args.seed,
            "data_seconds": prepared,
            "seconds": clock.seconds(),
            "torch": torch.__version__,
        },
        "git_revision": revision,
    }
    path = registry.save(args.out, version, model.state_dict(), card)
    if not args.no_promote:
        registry.set_current(args.out, version)
    print(f"wrote {path} in {card['training']['seconds']} s: {card['metrics']}")
    return path


def _ece(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    confidence, predicted = F.softmax(logits / temperature, 1).max(1)
    return scores.calibration_error(confidence.numpy(), (predicted == labels).numpy())[0]


if __name__ == "__main__":
    main()
