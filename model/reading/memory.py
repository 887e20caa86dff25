"""A person's corrections, remembered as shapes: a digit drawn like one they corrected is read as they said.

Retraining helps everyone, days later; this helps the one person at once. Each corrected
digit is kept as a short vector (the network's features before its classifier, projected
to :data:`DIMS` numbers and scaled to length 1), with the right label. A later digit by the
same person takes a remembered label when both of these hold:

- its nearest remembered shape is within ``threshold`` (cosine distance), a value chosen
  on a calibration run (``model.learning.memory_calibration``) and stored on the model's card;
- no remembered shape with another label is nearly as close (``ratio``): when the memory
  itself is torn, the network decides.

The network's own probability for the remembered label does not count: the misreads a
person most needs fixed are the ones the network is sure of, and their memory changes no
one else's answers. The bot asks before it remembers a correction of a sure answer.

Vectors depend on the network, so they are only compared within one model version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DIMS = 128
"""A random projection of the 1,152 features keeps their distances (Johnson-Lindenstrauss) and
makes a look-up among thousands of remembered digits about ten times cheaper (scripts.bench memory)."""

Vectors = NDArray[np.float32]


@dataclass(frozen=True)
class MemoryParams:
    threshold: float = 0.0
    """0 turns the memory off: a model without a calibration run has no threshold to trust."""
    ratio: float = 0.8
    precision: float = 0.0
    """Share of memory answers that were right on the calibration run: the confidence shown for one."""
    seed: int = 0

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MemoryParams:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Memory:
    """One person's remembered digits for one model version: ids (the database's), labels, vectors.

    ``version`` names the model that computed the vectors; a predictor of another version never
    compares with them ("" for people drawn up by calibration and benchmarks, always current)."""

    ids: NDArray[np.int64]
    labels: NDArray[np.int64]
    vectors: Vectors
    version: str = ""

    @classmethod
    def empty(cls, version: str = "") -> Memory:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, DIMS), np.float32), version)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, shapes: Sequence[Shape]) -> Memory:
        """Shapes remembered with their labels (ids by position): calibration's and benchmarks' people."""
        if not shapes:
            return cls.empty()
        return cls(
            np.arange(len(shapes), dtype=np.int64), np.array([s.label for s in shapes], np.int64), np.stack([s.vector for s in shapes])
        )

    def extended(self, ids: NDArray[np.int64], labels: NDArray[np.int64], vectors: Vectors) -> Memory:
        joined = (np.concatenate([self.ids, ids]), np.concatenate([self.labels, labels]), np.concatenate([self.vectors, vectors]))
        return Memory(*joined, self.version)


@dataclass(frozen=True)
class Recalled:
    """A remembered digit that decides one reading: its id, its label, how near it was."""

    memory_id: int
    label: int
    distance: float


def recall(vector: Vectors, memory: Memory, params: MemoryParams) -> Recalled | None:
    """The remembered label for one digit, or None where the network's reading stands (see the module's rules)."""
    if params.threshold <= 0 or len(memory) == 0:
        return None
    distances = 1.0 - memory.vectors @ vector
    nearest = int(distances.argmin())
    label, distance = int(memory.labels[nearest]), float(distances[nearest])
    if distance > params.threshold:
        return None
    others = distances[memory.labels != label]
    if len(others) and distance >= params.ratio * float(others.min()):
        return None
    return Recalled(int(memory.ids[nearest]), label, distance)


@dataclass(frozen=True)
class Shape:
    """One digit as the memory sees it: its vector, the network's probabilities, the truth."""

    vector: Vectors
    probabilities: NDArray[np.float32]
    label: int

    @property
    def read(self) -> int:
        return int(self.probabilities.argmax())
