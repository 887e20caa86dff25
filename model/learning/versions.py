"""A version's weights (torch) and its networks' ONNX exports: writing, reading, deriving.

Serving needs no autograd engine: torch trains, evaluates and exports, and the bot reads photos
with the exported graphs in ONNX Runtime. Every version written here gets its exports before its
card, and its card before anyone may point ``current`` at it. Each network becomes one graph
(``registry.graph``): the digit network gives its logits and the memory's unit vectors (the
projection of its features is part of the graph), the number reader's network its per-column
logits for strips of any width, the orientation network its three logits. The card's ``export``
section holds each graph's SHA-256 (by network) and the opset.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from model.learning.network import FEATURES, DigitNet
from model.learning.number_net import NumberNet
from model.reading import registry
from model.reading.memory import DIMS, Vectors

State = dict[str, torch.Tensor]

OPSET = 17
"""ONNX Runtime 1.16 and later run it; the TorchScript exporter (the one that handles the number reader's GRU) writes it."""


def load(path: Path) -> tuple[State, dict[str, Any]]:
    """A version's weights and card (a registry directory's current version, or a weights file)."""
    weights, card = registry.read_card(path)
    return load_file(str(weights)), card


def part(state: State, prefix: str) -> State:
    """One network's weights out of a version's: those under ``prefix`` (``DIGITS``: under no other prefix)."""
    if prefix:
        return {name[len(prefix) :]: tensor for name, tensor in state.items() if name.startswith(prefix)}
    return {name: tensor for name, tensor in state.items() if not name.startswith((registry.NUMBERS, registry.ORIENTATION))}


def joined(parts: dict[str, State]) -> State:
    """One version's weights from its networks' (prefix: weights)."""
    return {prefix + name: tensor for prefix, state in parts.items() for name, tensor in state.items()}


def save(directory: Path, version: str, state: State, card: dict[str, Any], served: bool = True) -> Path:
    """Write weights, their exports (unless not ``served``: the reference reader) and the card, each
    atomically and in that order; the pointer is moved separately by the caller."""
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / f"{version}.safetensors"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{version}.")
    os.close(fd)
    save_file({k: v.contiguous() for k, v in state.items()}, tmp, metadata={"version": version})
    os.chmod(tmp, 0o644)
    os.replace(tmp, weights)
    registry.write_card(weights, card | ({registry.EXPORT: _write_graphs(weights, state, card)} if served else {}))
    return weights


def derive(directory: Path, base: str, card: dict[str, Any], state: State, section: str, about: dict[str, Any], promote: bool) -> Path:
    """A new version made from ``base`` by adding or replacing one network: the base's card with that
    network's ``section``; ``current`` moves to it when ``promote``."""
    version = registry.next_version(directory)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    path = save(directory, version, state, dict(card) | {"version": version, "parent": base, "created": created, section: about})
    if promote:
        registry.set_current(directory, version)
    return path


def export(path: Path) -> dict[str, Any]:
    """Write the ONNX graphs of an existing version (a weights file, or a registry's current version),
    then record them on its card; returns the card's ``export`` section."""
    state, card = load(path)
    weights, _ = registry.resolve(path)
    section = _write_graphs(weights, state, card)

    def put(card: dict[str, Any]) -> None:
        card[registry.EXPORT] = section

    registry.update_card(weights, put)
    return section


def _write_graphs(weights: Path, state: State, card: dict[str, Any]) -> dict[str, Any]:
    sha256 = {}
    for prefix, data in graphs(state, card).items():
        registry.write_bytes(registry.graph(weights, prefix), data)
        sha256[registry.GRAPHS[prefix]] = hashlib.sha256(data).hexdigest()
    return {"format": "onnx", "opset": OPSET, "torch": torch.__version__, "sha256": sha256}


class Projection:
    """Features to the memory's unit vectors of :data:`DIMS` numbers, by a fixed random matrix (from
    ``seed``): the same matrix the digit network's export carries."""

    def __init__(self, features: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.matrix = torch.randn(features, DIMS, generator=generator) / DIMS**0.5

    def __call__(self, features: torch.Tensor) -> Vectors:
        projected = features.flatten(1) @ self.matrix
        unit: Vectors = torch.nn.functional.normalize(projected, dim=1).numpy().astype(np.float32)
        return unit


class DigitGraph(nn.Module):
    """The digit network as served: normalized views in; logits and the memory's unit vectors out."""

    def __init__(self, network: DigitNet, projection: Projection) -> None:
        super().__init__()
        self.network = network.eval()
        self.register_buffer("matrix", projection.matrix)

    def forward(self, views: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.network.features(views).flatten(1)
        vectors = nn.functional.normalize(features @ self.matrix, dim=1)
        logits: torch.Tensor = self.network.classifier(features)
        return logits, vectors


def graphs(state: State, card: dict[str, Any]) -> dict[str, bytes]:
    """Every network a version holds, as ONNX graphs by prefix."""
    digits = DigitGraph(DigitNet.from_state(part(state, registry.DIGITS)), Projection(FEATURES, int(card.get("memory", {}).get("seed", 0))))
    made = {registry.DIGITS: graph_bytes(digits, torch.zeros(2, 1, 28, 28), "views", ["logits", "vectors"])}
    if "numbers" in card:
        numbers = NumberNet(height=int(card["numbers"]["height"]), hidden=int(card["numbers"]["hidden"]))
        numbers.load_state_dict(part(state, registry.NUMBERS))
        made[registry.NUMBERS] = graph_bytes(numbers, torch.zeros(2, 1, numbers.height, 64), "strips", ["logits"], {3: "width"})
    if "orientation" in card:
        orientation = DigitNet.from_state(part(state, registry.ORIENTATION))
        made[registry.ORIENTATION] = graph_bytes(orientation, torch.zeros(2, 1, 28, 28), "views", ["logits"])
    return made


def graph_bytes(module: nn.Module, example: torch.Tensor, inputs: str, outputs: list[str], dynamic: dict[int, str] | None = None) -> bytes:
    """One module as an ONNX graph, its batch axis (and any other in ``dynamic``) left free."""
    free = {name: {0: "batch"} for name in outputs} | {inputs: {0: "batch"} | (dynamic or {})}
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter says it is deprecated; the dynamo one fails on the GRU
        target = Path(directory) / "graph.onnx"
        torch.onnx.export(
            module.eval(), (example,), target, input_names=[inputs], output_names=outputs, dynamic_axes=free, opset_version=OPSET,
            dynamo=False,
        )  # fmt: skip
        return target.read_bytes()
