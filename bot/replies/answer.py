"""One answer, typed: what was read in a photo, as the reply's text, its buttons and the boxed picture all show it.

It is made once from the model's ``Reading`` and stored with the prediction as JSON, so any
replica can redraw it later; an answer stored by an older bot (without a field) still loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from model.reading.predictor import Reading

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Digit:
    digit: int
    confidence: float
    """As ``DigitReading.confidence``: the calibrated probability, or a remembered digit's measured precision (stored as "p")."""
    top: tuple[tuple[int, float], ...]
    """The network's own top readings, kept beside a remembered digit."""
    box: Box
    recalled: int | None = None
    """The remembered shape (its database id) that chose ``digit``, when the person's memory did."""


@dataclass(frozen=True)
class Answer:
    model: str
    confidence: float
    digits: tuple[Digit, ...]
    reason: str | None = None
    set_aside: tuple[Box, ...] = ()
    turned: bool = False
    """The digit lay on its side in the photo and was read turned upright."""

    @classmethod
    def of(cls, reading: Reading) -> Answer:
        digits = tuple(
            Digit(
                item.digit,
                item.confidence,
                tuple((c.digit, c.p) for c in item.top),
                _box(item.box),
                item.recalled.memory_id if item.recalled is not None else None,
            )
            for item in reading.items
        )
        set_aside = tuple(_box(b) for b in reading.set_aside)
        return cls(reading.model_version, reading.confidence, digits, reading.reason, set_aside, reading.turned)

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Answer:
        digits = tuple(
            Digit(int(d["digit"]), float(d["p"]), tuple((int(t[0]), float(t[1])) for t in d["top"]), _box(d["box"]), d.get("recalled"))
            for d in stored.get("digits", [])
        )
        set_aside = tuple(_box(b) for b in stored.get("set_aside", []))
        model, confidence = str(stored.get("model", "?")), float(stored.get("confidence", 0.0))
        return cls(model, confidence, digits, stored.get("reason"), set_aside, bool(stored.get("turned", False)))

    def to_json(self) -> dict[str, Any]:
        digits = [
            {"digit": d.digit, "p": d.confidence, "top": [list(t) for t in d.top], "box": list(d.box)}
            | ({"recalled": d.recalled} if d.recalled is not None else {})
            for d in self.digits
        ]
        return {
            "model": self.model,
            "reason": self.reason,
            "confidence": self.confidence,
            "set_aside": [list(b) for b in self.set_aside],
            "digits": digits,
        } | ({"turned": True} if self.turned else {})

    @property
    def number(self) -> str:
        return "".join(str(d.digit) for d in self.digits)

    @property
    def boxed(self) -> bool:
        """A number of two or more digits is answered with the photo, each digit boxed: it shows at once which shape became which."""
        return len(self.digits) > 1

    @property
    def recalled_ids(self) -> list[int]:
        """The remembered shapes that decided digits of this answer."""
        return [d.recalled for d in self.digits if d.recalled is not None]

    def without_memory(self) -> Answer:
        """The answer as the network alone gave it: each recalled digit back to its own top reading, the confidence their product."""
        own = (replace(d, digit=d.top[0][0], confidence=d.top[0][1], recalled=None) if d.recalled is not None else d for d in self.digits)
        digits = tuple(own)
        return replace(self, digits=digits, confidence=math.prod(d.confidence for d in digits))


def _box(values: Any) -> Box:
    x0, y0, x1, y1 = (int(v) for v in values)
    return x0, y0, x1, y1
