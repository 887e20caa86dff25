"""Train the reference reader's network: MNIST as it is, 3 epochs, light random affines.

Its weights go beside the shipped model (``models/reference.safetensors``) for evaluation
only; the registry's versions and its ``current`` pointer never name it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from model.data.digits import Digits, load_mnist
from model.judging import scores
from model.judging.reference import NAME, PlainNet, normalize
from model.learning import versions
from model.learning.fit import FitConfig, Stopwatch, fit
from model.reading import registry
from model.reading.transform import DigitTransform


@dataclass(frozen=True)
class ReferenceConfig:
    out: Path = Path("models")
    data_root: str = "data"
    download: bool = True
    epochs: int = 3
    limit: int = 0
    """Use only this many MNIST training digits (smoke runs); 0 for all."""
    seed: int = 0


def run(config: ReferenceConfig) -> Path:
    """Fit, score MNIST test through the network alone, write weights and card; returns the weights' path."""
    clock = Stopwatch()
    images, labels = load_mnist(config.data_root, train=True, download=config.download)
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    network = PlainNet()
    losses = fit(network, Digits(images, labels), DigitTransform(), FitConfig(epochs=config.epochs, seed=config.seed))
    test_x, test_y = load_mnist(config.data_root, train=False, download=config.download)
    with torch.inference_mode():
        network.eval()
        read = network(normalize(torch.from_numpy(test_x).float().div(255).unsqueeze(1))).argmax(1).numpy()
    metrics = {"test_mnist_network_accuracy": scores.accuracy(read, test_y)}
    card: dict[str, Any] = {
        "version": NAME,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "architecture": "PlainNet",
        "parameters": sum(p.numel() for p in network.parameters()),
        "purpose": "evaluation only: the plain pipeline the product must beat (model.judging.reference)",
        "metrics": metrics,
        "training": {
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "epoch_losses": [round(x, 4) for x in losses],
            "seconds": clock.seconds(),
            "torch": torch.__version__,
        },
        "git_revision": registry.git_revision(),
    }
    path = versions.save(config.out, NAME, network.state_dict(), card, served=False)
    print(f"wrote {path} in {clock.seconds()} s: {metrics}")
    return path
