"""Which way up a lone shape lies: upright, or turned a quarter either way by its sender.

A phone's EXIF tag turns a photo as the camera held it; a crop the sender turned afterwards, or a
page photographed sideways, reaches the digit network lying on its side, and a 1 lying down reads
as a 2. The orientation network is the digit network's shape with three outputs, learned from the
transform's own model inputs turned a quarter either way. Its three probabilities weigh the digit
network's readings of the shape as it is and turned back each way (``mix``):

- a shape it is unsure about is read as unsure, not turned on a guess;
- upright is the likelier start (``PRIOR``): few photos come turned, so a turn needs strong evidence;
- a 6 turned one way is a 9 turned the other, nearly the same pixels: which way the orientation
  network finds the shape turned (a 6's curled top against a 9's straight stem) tips a turned reading
  towards one of them, never to a sure answer (``SIX_NINE_SHARE``), so a turn never swaps them surely;
- a straight stroke has no up: lying, it is a dash, an underline or what is left of a ruled line as
  much as a 1, so a turned reading's 1 counts as "not a digit" (a lying 1 is answered "no digit",
  never a blank page's line read as a sure 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.classes import NOT_A_DIGIT
from model.reading.graphs import Batch, Logits, softmax
from model.reading.transform import DigitCrop

UPRIGHT, LEFT, RIGHT = 0, 1, 2
"""The classes: as it is; its content turned a quarter counter-clockwise; a quarter clockwise."""
TURNS = (0, 1, 3)
"""``np.rot90``'s ``k`` that makes each class from an upright shape."""
PRIOR = (0.9, 0.05, 0.05)
"""How likely each orientation is before the shape is seen: the network learned from the three in
equal shares, and its probabilities are reweighed by this (most photos come upright)."""
ONE, SIX, NINE = 1, 6, 9
SIX_NINE_SHARE = 0.75
"""Of the probability a turned 6 and 9 share, the most either takes. Lying, they are one shape read
two ways (a 6 turned one way is a 9 turned the other), and only the orientation network's left or
right tells which: it may tip the answer, never make it sure (the bot and the evaluation call 80% sure)."""


@dataclass(frozen=True)
class Orientation:
    """The orientation network (as a function of normalized views) and the prior its probabilities are reweighed by."""

    network: Logits
    prior: tuple[float, float, float] = PRIOR
    temperature: float = 1.0
    """Fitted on held-out photos in the three orientations: the network alone is surer than it is right."""

    @classmethod
    def from_card(cls, network: Logits, card: dict[str, Any]) -> Orientation:
        """The weighing a model card's ``orientation`` section describes, over its network."""
        prior = card.get("prior", PRIOR)
        temperature = float(card.get("temperature", 1.0))
        return cls(network, (float(prior[0]), float(prior[1]), float(prior[2])), temperature)

    def card(self) -> dict[str, Any]:
        classes = ["upright", "left", "right"]
        return {"architecture": "DigitNet", "classes": classes, "prior": list(self.prior), "temperature": self.temperature}

    def probabilities(self, batch: Batch) -> Batch:
        """Each shape's probability of each orientation, from its views' mean, reweighed by the prior.

        ``batch`` is ``DigitTransform.views``': every shape's grey view, then every solid view."""
        probs = softmax(self.network(batch) / np.float32(self.temperature), axis=1)
        count = len(batch) // 2
        weighed: Batch = (probs[:count] + probs[count:]) / np.float32(2) * np.asarray(self.prior, np.float32)
        normalized: Batch = weighed / weighed.sum(axis=1, keepdims=True)
        return normalized


def turn(pixels: NDArray[Any], k: int) -> NDArray[Any]:
    """A model input turned ``k`` quarters counter-clockwise, its centre of mass put back where the
    transform puts it: a quarter turn about the canvas's centre moves it by a pixel, and a network
    that learned turns from such inputs would tell the turn by that pixel alone."""
    turned = np.rot90(pixels, k)
    moments = cv2.moments(turned.astype(np.float32))
    if moments["m00"] <= 0:
        return np.ascontiguousarray(turned)
    centre = turned.shape[0] / 2
    dy, dx = round(centre - moments["m01"] / moments["m00"]), round(centre - moments["m10"] / moments["m00"])
    return np.ascontiguousarray(np.roll(turned, (dy, dx), axis=(0, 1)))


def turned_back(crop: DigitCrop, orientation: int) -> DigitCrop:
    """The shape as it would stand upright, were it lying as ``orientation`` says."""
    k = -TURNS[orientation]
    return replace(crop, pixels=turn(crop.pixels, k), solid=turn(crop.solid, k))


def mix(weights: Batch, rows: Batch) -> Batch:
    """One shape's reading over its orientations: each orientation's reading (``rows``, one per class,
    upright first) weighed by its probability; in the turned readings a 1's goes to "not a digit",
    and 6 and 9 share their probability.

    What the shape is (a digit, which one, or none) is read with the two shared evenly; only where
    that reading is a 6 or a 9 does the turn tip the share towards one of them (``SIX_NINE_SHARE``),
    so the tipping never turns a doodle into a digit nor another digit into a 6."""
    turned = rows.copy()
    turned[1:, NOT_A_DIGIT] += turned[1:, ONE]
    turned[1:, ONE] = 0
    both = turned[1:, SIX] + turned[1:, NINE]
    six = np.clip(turned[1:, SIX], (1 - SIX_NINE_SHARE) * both, SIX_NINE_SHARE * both)
    turned[1:, SIX] = turned[1:, NINE] = both / 2
    even: Batch = (weights[:, None] * turned).sum(axis=0)
    if int(even.argmax()) not in (SIX, NINE):
        return even
    turned[1:, SIX], turned[1:, NINE] = six, both - six
    mixed: Batch = (weights[:, None] * turned).sum(axis=0)
    return mixed
