"""Training the number reader as one function driven by one config: what ``scripts.train_numbers`` runs.

Numbers drawn from MNIST's training digits (its last 5,000 held out, as the digit network's
training holds them) go through the shared transform to strips (``model.data.strips``); the
number network learns them with CTC (``number_fit``); its temperature is fitted on strips from
the held-out digits; and a new registry version is written: the base version's digit network
and card, beside the new number reader with its own section of the card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from model.data.digits import load_mnist
from model.data.strips import StripMix, Strips, make_strips
from model.judging import scores
from model.learning import served, versions
from model.learning.fit import Stopwatch
from model.learning.number_fit import NumberFitConfig, fit_numbers, fit_temperature
from model.learning.number_net import NumberNet
from model.learning.train import VALIDATION
from model.reading import registry
from model.reading.number_reader import NumberReader
from model.reading.transform import TransformParams


@dataclass(frozen=True)
class NumberTrainConfig:
    """Every size and seed of a number reader's training run; the defaults made the shipped one."""

    models: Path = Path("models")
    base: str = ""
    """The version whose digit network the new version keeps ("": the current one)."""
    data_root: str = "data"
    download: bool = True
    samples: int = 85000
    validation: int = 3000
    hidden: int = 64
    mix: StripMix = field(default_factory=StripMix)
    fit: NumberFitConfig = field(default_factory=NumberFitConfig)
    mean: float = 0.1
    std: float = 0.3
    """The strips' input scale: about their ink's mean and spread."""
    limit: int = 0
    """Use only this many MNIST training digits (smoke runs); 0 for all."""
    workers: int = 2
    promote: bool = True
    seed: int = 1
    validation_seed: int = 2


def run(config: NumberTrainConfig) -> Path:
    """Render, fit, calibrate, write the version; returns its weights' path."""
    clock = Stopwatch()
    revision = registry.git_revision()
    base = config.base or registry.current_version(config.models)
    state, card = versions.load(config.models / f"{base}.safetensors")
    params = TransformParams.from_dict(card.get("transform", {}))
    train, validation = _strips(config, params)
    prepared = clock.seconds()
    network = NumberNet(height=params.strip.height, hidden=config.hidden)
    reader = NumberReader(served.as_logits(network), 1.0, config.mean, config.std)
    losses = fit_numbers(network, train, reader, config.fit)
    reader.temperature = fit_temperature(reader, validation)
    metrics = measure(reader, validation)
    training = {"samples": len(train.labels), "validation": len(validation.labels), "epoch_losses": [round(x, 4) for x in losses]}
    training |= {
        "config": registry.as_json(asdict(config)),
        "data_seconds": prepared,
        "seconds": clock.seconds(),
        "torch": torch.__version__,
    }
    numbers = reader.card() | {"height": network.height, "hidden": network.hidden, "metrics": metrics, "training": training}
    numbers["git_revision"] = revision
    parts = {prefix: versions.part(state, prefix) for prefix in registry.parts_of(card)} | {registry.NUMBERS: network.state_dict()}
    path = versions.derive(config.models, base, card, versions.joined(parts), "numbers", numbers, config.promote)
    print(f"wrote {path} (the networks of {base}, a new number reader) in {numbers['training']['seconds']} s: {metrics}")
    return path


def _strips(config: NumberTrainConfig, params: TransformParams) -> tuple[Strips, Strips]:
    images, labels = load_mnist(config.data_root, train=True, download=config.download)
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    held = min(VALIDATION, max(1, len(images) // 10))
    train = make_strips(images[:-held], labels[:-held], config.samples, params, config.seed, config.mix, config.workers, "strips")
    validation = make_strips(
        images[-held:], labels[-held:], config.validation, params, config.validation_seed, config.mix, config.workers, "held-out strips"
    )
    return train, validation


def measure(reader: NumberReader, strips: Strips) -> dict[str, float]:
    """String accuracy and the calibration of the reader's confidence, on held-out strips."""
    readings = [reader.read(strips.ink(i)) for i in range(len(strips.labels))]
    right = np.array([reading.text == label for reading, label in zip(readings, strips.labels, strict=True)])
    confidence = np.array([reading.confidence for reading in readings])
    ece, _ = scores.calibration_error(confidence, right)
    return {
        "val_string_accuracy": float(right.mean()),
        "val_ece": ece,
        "val_sure_wrong_share": float(np.mean((confidence >= 0.8) & ~right)),
    }
