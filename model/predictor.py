"""Load a model once, read digits from photos: the only door the bot has into the model.

``Predictor.predict`` takes bytes or a PIL image and returns a :class:`Reading`. It is
safe to call from several threads at once: the network is in eval mode, inference
mutates nothing, and each call batches the digits of its own photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from model import registry
from model.network import NOT_A_DIGIT, DigitNet
from model.transform import Box, DigitTransform, ImageError, TransformParams

__all__ = ["Candidate", "DigitReading", "ImageError", "Predictor", "Reading"]

REJECT_BELOW = 0.3
"""When every shape in a photo is read with less than this calibrated confidence, no digit is reported.

Models with the "not a digit" output also drop each shape that output wins; older
10-class models (still loadable for rollback) rely on this threshold alone."""


@dataclass(frozen=True)
class Candidate:
    digit: int
    p: float


@dataclass(frozen=True)
class DigitReading:
    """One digit: the answer, its calibrated probability, the runners-up, and what the model saw."""

    digit: int
    confidence: float
    top: tuple[Candidate, ...]
    box: Box
    pixels: NDArray[np.float32]


@dataclass(frozen=True)
class Reading:
    """What the model read in one photo; ``digits`` is empty and ``reason`` set when there is no digit."""

    items: tuple[DigitReading, ...]
    model_version: str
    reason: str | None = None

    @property
    def digits(self) -> str:
        return "".join(str(item.digit) for item in self.items)

    @property
    def confidence(self) -> float:
        """Probability that the whole reading is right: the product over its digits."""
        return float(np.prod([item.confidence for item in self.items])) if self.items else 0.0

    @property
    def least_sure(self) -> DigitReading | None:
        return min(self.items, key=lambda item: item.confidence) if self.items else None


class Predictor:
    def __init__(self, network: DigitNet, transform: DigitTransform, temperature: float, version: str) -> None:
        self.network = network.eval()
        self._served = network.for_inference()
        self.transform = transform
        self.temperature = temperature
        self.version = version

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """Weights and card from a registry directory (its current version) or a ``.safetensors`` file."""
        state, card = registry.load(Path(path))
        network = DigitNet.from_state(state)
        params = TransformParams.from_dict(card.get("transform", {}))
        return cls(network, DigitTransform(params), float(card.get("temperature", 1.0)), str(card.get("version", "unknown")))

    def probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        """Calibrated class probabilities for a normalized batch."""
        with torch.inference_mode():
            logits = self._served(batch.contiguous(memory_format=torch.channels_last))
            return torch.softmax(logits / self.temperature, dim=1)

    def predict(self, image: bytes | Image.Image) -> Reading:
        """Read the digits in a photo; raises :class:`ImageError` when it is not a readable image."""
        segmentation = self.transform.segment(image)
        if not segmentation.crops:
            return Reading(items=(), model_version=self.version, reason=segmentation.reason)
        probs = self.probabilities(self.transform.to_tensor(segmentation.crops))
        items = []
        for crop, row in zip(segmentation.crops, probs, strict=True):
            if self.network.rejects and int(row.argmax()) == NOT_A_DIGIT:
                continue  # a doodle beside a number is left out; the number is still read
            values, digits = row[:NOT_A_DIGIT].topk(3)
            top = tuple(Candidate(int(d), round(float(v), 4)) for v, d in zip(values, digits, strict=True))
            items.append(DigitReading(top[0].digit, float(values[0]), top, crop.box, crop.pixels))
        if not items or max(item.confidence for item in items) < REJECT_BELOW:
            return Reading(items=(), model_version=self.version, reason="I see shapes, but none of them looks like a digit")
        return Reading(items=tuple(items), model_version=self.version)
