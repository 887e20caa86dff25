"""Torch's networks as the functions the readers take (``model.reading.graphs``): for candidates
that are judged before they are exported (retraining's gate, a benchmark's sabotaged copy), and for
the torch side of the export's parity checks.

The bot never runs these: it runs a version's ONNX exports, which give the same outputs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from model.learning import versions
from model.learning.network import FEATURES, DigitNet
from model.learning.number_net import NumberNet
from model.learning.versions import Projection
from model.reading import registry
from model.reading.graphs import Batch, Logits
from model.reading.memory import MemoryParams
from model.reading.number_reader import NumberReader
from model.reading.orientation import Orientation
from model.reading.predictor import Predictor
from model.reading.transform import DigitTransform, TransformParams


class TorchDigits:
    """The digit network as a ``DigitRun``: batch norm folded, channels-last, as it was served before exports."""

    def __init__(self, network: DigitNet, memory_seed: int = 0) -> None:
        self.network = network.eval()
        self.classes = network.num_classes
        self._served = network.for_inference()
        self._projection = Projection(FEATURES, memory_seed)

    def __call__(self, views: Batch) -> tuple[Batch, Batch]:
        with torch.inference_mode():
            features = self._served(torch.from_numpy(views).contiguous(memory_format=torch.channels_last))
            logits: Batch = self.network.classifier(features).numpy()
            return logits, self._projection(features)


def as_logits(network: nn.Module) -> Logits:
    """Any network as a ``Logits`` function (the number reader's, the orientation network)."""

    def run(batch: Batch) -> Batch:
        with torch.inference_mode():
            logits: Batch = network(torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)).numpy()
            return logits

    return run


def number_network(state: versions.State, card: dict[str, Any]) -> NumberNet | None:
    """The number reader's network a version holds, or None for one without."""
    section = card.get("numbers")
    if not section:
        return None
    network = NumberNet(height=int(section["height"]), hidden=int(section["hidden"]))
    network.load_state_dict(versions.part(state, registry.NUMBERS))
    return network.eval()


def number_reader(network: NumberNet, card: dict[str, Any]) -> NumberReader:
    return NumberReader.from_card(as_logits(network), card["numbers"])


def orientation(state: versions.State, card: dict[str, Any]) -> Orientation | None:
    """The orientation weighing a version holds, on torch, or None for one without."""
    section = card.get("orientation")
    if not section:
        return None
    return Orientation.from_card(as_logits(DigitNet.from_state(versions.part(state, registry.ORIENTATION)).eval()), section)


def predictor(
    network: DigitNet,
    card: dict[str, Any],
    version: str,
    temperature: float | None = None,
    numbers: NumberReader | None = None,
    turns: Orientation | None = None,
) -> Predictor:
    """A predictor over torch networks: ``network`` with a version's card (its transform, memory and
    temperature unless given), and the number reader and orientation weighing given."""
    memory = MemoryParams.from_dict(card.get("memory", {}))
    transform = DigitTransform(TransformParams.from_dict(card.get("transform", {})))
    chosen = float(card.get("temperature", 1.0)) if temperature is None else temperature
    return Predictor(TorchDigits(network, memory.seed), transform, chosen, version, memory, numbers, turns)
