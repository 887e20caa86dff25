"""Training the orientation network as one function driven by one config: what ``scripts.train_orientation`` runs.

MNIST's training digits, raw and as photo-like renders, go through the shared transform (its last
5,000 held out, as the digit network's training holds them); each model input is learned three
ways, as it is and turned a quarter either way (``model.reading.orientation.turn``), with the digit
network's fit loop and jitter, and its temperature is fitted on held-out photos. A new registry
version is written: the base version's networks and card, with the orientation network and its own
section of the card beside them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from model.data.digits import Digits, Seen, concat, load_mnist, transform_digits
from model.learning import served, versions
from model.learning.fit import FitConfig, Stopwatch, fit, fit_temperature, logits_of, view_probabilities
from model.learning.network import DigitNet
from model.learning.train import VALIDATION
from model.reading import registry
from model.reading.orientation import TURNS, UPRIGHT, Orientation, turn
from model.reading.transform import DigitTransform, TransformParams


@dataclass(frozen=True)
class OrientationTrainConfig:
    """Every size and seed of an orientation network's training run; the defaults made the shipped one."""

    models: Path = Path("models")
    base: str = ""
    """The version whose networks the new version keeps ("": the current one)."""
    data_root: str = "data"
    download: bool = True
    raw: int = 40000
    photos: int = 12000
    validation: int = 1000
    """Held-out digits rendered as photos, each measured in the three orientations."""
    fit: FitConfig = field(default_factory=lambda: FitConfig(epochs=4))
    limit: int = 0
    """Use only this many MNIST training digits (smoke runs); 0 for all."""
    seen: Seen = field(default_factory=lambda: Seen(recall=0.7, precision=0.6))
    workers: int = 2
    promote: bool = True
    photo_seed: int = 1
    validation_seed: int = 2


def three_ways(digits: Digits) -> Digits:
    """Every model input as it is and turned each way, labelled by its orientation (each digit's two
    views stay side by side, as the predictor averages them)."""
    if not len(digits.labels):
        return digits
    pixels = np.concatenate([np.stack([turn(p, k) for p in digits.pixels]) for k in TURNS])
    return Digits(pixels, np.repeat(np.arange(len(TURNS), dtype=np.int64), len(digits.labels)))


def run(config: OrientationTrainConfig) -> Path:
    """Transform, fit, measure, write the version; returns its weights' path."""
    clock = Stopwatch()
    revision = registry.git_revision()
    base = config.base or registry.current_version(config.models)
    state, card = versions.load(config.models / f"{base}.safetensors")
    transform = DigitTransform(TransformParams.from_dict(card.get("transform", {})))
    train, validation = _digits(config, transform.params)
    prepared = clock.seconds()
    network = DigitNet(num_classes=len(TURNS))
    losses = fit(network, three_ways(train), transform, config.fit)
    held_out = three_ways(validation)
    logits = logits_of(network.eval(), held_out.pixels, transform)
    orientation = Orientation(served.as_logits(network), temperature=fit_temperature(logits, torch.from_numpy(held_out.labels), views=2))
    metrics = measure(network, orientation, held_out, transform)
    training = {"samples": 3 * len(train.labels), "epoch_losses": [round(x, 4) for x in losses], "data_seconds": prepared}
    training |= {"config": registry.as_json(asdict(config)), "seconds": clock.seconds(), "torch": torch.__version__}
    section = orientation.card() | {"metrics": metrics, "training": training, "git_revision": revision}
    parts = {prefix: versions.part(state, prefix) for prefix in registry.parts_of(card)} | {registry.ORIENTATION: network.state_dict()}
    path = versions.derive(config.models, base, card, versions.joined(parts), "orientation", section, config.promote)
    print(f"wrote {path} (the networks of {base}, a new orientation network) in {training['seconds']} s: {metrics}")
    return path


def _digits(config: OrientationTrainConfig, params: TransformParams) -> tuple[Digits, Digits]:
    images, labels = load_mnist(config.data_root, train=True, download=config.download)
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    held = min(VALIDATION, max(1, len(images) // 10))
    (x, y), (vx, vy) = (images[:-held], labels[:-held]), (images[-held:], labels[-held:])
    raw, photos = min(config.raw, len(x)), min(config.photos, max(0, len(x) - config.raw))
    c, w = config, config.workers
    train = concat(
        transform_digits(x[:raw], y[:raw], params, photo=False, seed=0, workers=w, desc="mnist"),
        transform_digits(x[raw : raw + photos], y[raw : raw + photos], params, True, c.photo_seed, w, "photos", seen=c.seen),
    )
    count = min(config.validation, len(vx))
    return train, transform_digits(vx[:count], vy[:count], params, True, c.validation_seed, w, "held-out photos")


def measure(network: DigitNet, orientation: Orientation, digits: Digits, transform: DigitTransform) -> dict[str, float]:
    """On held-out photos in each orientation: how often the network's likeliest orientation (its
    temperature and the prior applied, as the predictor applies them) is right, and how often an
    upright one is taken as turned."""
    probs = view_probabilities(logits_of(network, digits.pixels, transform), orientation.temperature, views=2)
    weighed = probs * torch.tensor(orientation.prior)
    chosen = weighed.argmax(1).numpy()
    truth = digits.labels[::2]
    upright = truth == UPRIGHT
    return {
        "val_accuracy": float((chosen == truth).mean()),
        "val_turned_found": float((chosen[~upright] == truth[~upright]).mean()),
        "val_upright_taken_turned": float((chosen[upright] != UPRIGHT).mean()),
    }
