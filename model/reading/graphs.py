"""The networks as the bot runs them: a version's ONNX exports in ONNX Runtime, one thread per call.

The readers of the model (the predictor, the number reader, the orientation weighing) each take a
plain function from a batch (numpy) to the network's outputs (numpy); here those functions are
ONNX Runtime sessions over the graphs ``model.learning.versions`` exports beside every version's
weights. Torch's own networks make the same functions for candidates still being judged
(``model.learning.served``), and the two agree to 1e-4 (``tests/test_export.py``).

Each call runs on the calling thread alone (one intra-op thread): the bot reads several photos at
once on its inference workers, and a photo's small networks gain nothing from more threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from model.reading import registry

Batch = NDArray[np.float32]
Logits = Callable[[Batch], Batch]
"""A network as a function: a batch in, its logits out."""


class DigitRun(Protocol):
    """The digit network as a function: normalized views in; logits and the memory's unit vectors out."""

    classes: int

    def __call__(self, views: Batch) -> tuple[Batch, Batch]: ...


class Graph:
    """One exported network in its own ONNX Runtime session."""

    def __init__(self, path: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def outputs(self, batch: Batch) -> list[Batch]:
        found: list[Batch] = self.session.run(None, {self.input: np.ascontiguousarray(batch, dtype=np.float32)})
        return found


class DigitGraph(Graph):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.classes = int(self.session.get_outputs()[0].shape[1])

    def __call__(self, views: Batch) -> tuple[Batch, Batch]:
        logits, vectors = self.outputs(views)
        return logits, vectors


class LogitGraph(Graph):
    def __call__(self, batch: Batch) -> Batch:
        return self.outputs(batch)[0]


@dataclass(frozen=True)
class Graphs:
    """A version's exported networks, as functions; those it does not hold are None."""

    digits: DigitGraph
    numbers: LogitGraph | None
    orientation: LogitGraph | None


def load(weights: Path, card: dict[str, Any]) -> Graphs:
    """The exports of the version ``weights`` names; :class:`registry.NotExported` where its card lists none
    or a file it lists is missing."""
    held = registry.parts_of(card)
    paths = {prefix: registry.graph(weights, prefix) for prefix in held}
    if registry.EXPORT not in card or not all(path.exists() for path in paths.values()):
        raise registry.NotExported(weights)
    numbers, orientation = paths.get(registry.NUMBERS), paths.get(registry.ORIENTATION)
    return Graphs(
        DigitGraph(paths[registry.DIGITS]),
        LogitGraph(numbers) if numbers is not None else None,
        LogitGraph(orientation) if orientation is not None else None,
    )


def softmax(logits: Batch, axis: int = -1) -> Batch:
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    result: Batch = shifted / shifted.sum(axis=axis, keepdims=True)
    return result


def log_softmax(logits: Batch, axis: int = -1) -> Batch:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    result: Batch = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return result
