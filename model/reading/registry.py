"""Versioned model files: ``v<N>.safetensors`` with its card ``v<N>.json`` and its networks' ONNX exports, and a ``current`` pointer.

The pointer is a one-line text file replaced atomically (``os.replace``), so a reader —
the bot checking for a new model — sees either the old version or the new one, never a
half-written file. Weights are written before the pointer moves.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POINTER = "current"
SHIPPED = Path(__file__).resolve().parents[2] / "models"
"""The registry committed with the code: what the CLI and the bot use unless told otherwise."""
VERSION_PATTERN = re.compile(r"^v(\d+)$")
DIGITS = ""
NUMBERS = "numbers."
ORIENTATION = "orientation."
"""A version's weights hold its networks side by side, each under its prefix: the digit network's
names bare (as every version before the number reader has them), the number reader's after ``numbers.``,
the orientation network's after ``orientation.``."""
GRAPHS = {DIGITS: "digits", NUMBERS: "numbers", ORIENTATION: "orientation"}
"""Each network's ONNX export (what the bot runs) lies beside the weights as ``v<N>.<name>.onnx``."""
EXPORT = "export"
"""The card's section that lists a version's exports; a version without it is not served."""


class NotExported(FileNotFoundError):
    """A version whose networks have no ONNX export (made before exports, or copied without them)."""

    def __init__(self, weights: Path) -> None:
        super().__init__(
            f"{weights.stem} has no ONNX export beside {weights.name}: run "
            f"python -m scripts.models --models {weights.parent} export {weights.stem} (needs the train extra)"
        )


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_bytes(target: Path, data: bytes) -> None:
    """Replace a file in one step: a running bot never reads half of it."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def _atomic_copy(source: Path, target: Path) -> None:
    write_bytes(target, source.read_bytes())


def _complete_exports(source: Path, target: Path) -> bool:
    """Give ``target`` (the same weights as ``source``) the exports its card lacks and ``source``'s has."""
    _, card = read_card(target)
    _, shipped = read_card(source)
    if EXPORT in card or EXPORT not in shipped:
        return False
    _copy_exports(source, target)
    write_card(target, card | {EXPORT: shipped[EXPORT]})
    return True


def _copy_exports(source: Path, target: Path) -> None:
    """The ONNX exports of the version ``source`` names, beside ``target``."""
    for prefix in GRAPHS:
        if graph(source, prefix).exists():
            _atomic_copy(graph(source, prefix), graph(target, prefix))


def versions(directory: Path) -> list[str]:
    """Versions present in a registry, oldest first."""
    found = [m.group(0) for p in directory.glob("v*.safetensors") if (m := VERSION_PATTERN.match(p.stem))]
    return sorted(found, key=lambda v: int(v[1:]))


def next_version(directory: Path) -> str:
    existing = versions(directory)
    return f"v{int(existing[-1][1:]) + 1}" if existing else "v1"


def current_version(directory: Path) -> str:
    pointer = directory / POINTER
    if pointer.exists():
        return pointer.read_text().strip()
    existing = versions(directory)
    if not existing:
        raise FileNotFoundError(f"no model in {directory}")
    return existing[-1]


def set_current(directory: Path, version: str) -> None:
    if not (directory / f"{version}.safetensors").exists():
        raise FileNotFoundError(f"no weights for {version} in {directory}")
    _atomic_write(directory / POINTER, version + "\n")


def resolve(path: Path) -> tuple[Path, Path]:
    """Weights and card for a registry directory (its current version) or a weights file."""
    if path.is_dir():
        version = current_version(path)
        path = path / f"{version}.safetensors"
    if not path.exists():
        raise FileNotFoundError(f"model weights not found: {path}")
    return path, path.with_suffix(".json")


def graph(weights: Path, prefix: str) -> Path:
    """Where the ONNX export of one network (``prefix``) of a version lies."""
    return weights.with_name(f"{weights.stem}.{GRAPHS[prefix]}.onnx")


def read_card(path: Path) -> tuple[Path, dict[str, Any]]:
    """A version's weights file and card (a registry directory's current version, or a weights file)."""
    weights, card_path = resolve(path)
    return weights, (json.loads(card_path.read_text()) if card_path.exists() else {})


def write_card(weights: Path, card: dict[str, Any]) -> None:
    """Replace a model's card in one step: a running bot or a crash never sees half a card."""
    _atomic_write(weights.with_suffix(".json"), json.dumps(card, indent=2, sort_keys=True) + "\n")


def update_card(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Read the card of ``path`` (a registry's current version or a weights file), let ``change`` edit
    it, write it back atomically; returns the card's path."""
    weights, card = read_card(path)
    change(card)
    write_card(weights, card)
    return weights.with_suffix(".json")


SECTIONS = {NUMBERS: "numbers", ORIENTATION: "orientation"}
"""The card's section that describes each network beside the digit network."""


def parts_of(card: dict[str, Any]) -> list[str]:
    """The prefixes of the networks a version holds, as its card tells: the digit network's, and each
    other network whose section the card has."""
    return [DIGITS, *(prefix for prefix, section in SECTIONS.items() if section in card)]


def as_json(value: Any) -> Any:
    """A training config as a card holds it: paths as text, the registry's own directory left out."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items() if k != "models"}
    return str(value) if isinstance(value, Path) else value


def git_revision() -> str:
    """The code a model was made by, for its card; "unknown" outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@dataclass(frozen=True)
class Adoption:
    """What ``adopt`` did with a release's shipped versions: each one copied, already there, or held
    back because the registry has a different model under its name (a version retrained here)."""

    copied: tuple[str, ...]
    clashing: tuple[str, ...]
    shipped: str
    """The release's own current version."""
    current: str
    """The registry's current version, after adoption."""
    moved_from: str | None = None
    """The version ``current`` pointed at before it moved to the release's; None when it did not move."""


def adopt(shipped: Path, directory: Path, follow: bool) -> Adoption:
    """Bring a release's shipped versions into a deployment's registry, never overwriting one.

    A registry on a volume outlives the image it was seeded from: each start copies the versions the
    image ships that the registry lacks (weights, their ONNX exports, then the card), and the exports
    of the versions it holds as shipped but without them (copied by a release before exports).
    ``current`` moves to the release's version only where the registry has none yet or ``follow``
    says so: a retrained version the operator promoted stays current until the operator chooses the
    shipped one.
    """
    copied, clashing = [], []
    for version in versions(shipped):
        weights, source = directory / f"{version}.safetensors", shipped / f"{version}.safetensors"
        if not weights.exists():
            directory.mkdir(parents=True, exist_ok=True)
            _atomic_copy(source, weights)
            _copy_exports(source, weights)
            if source.with_suffix(".json").exists():
                _atomic_copy(source.with_suffix(".json"), weights.with_suffix(".json"))
            copied.append(version)
        elif weights.read_bytes() != source.read_bytes():
            clashing.append(version)
        elif _complete_exports(source, weights):
            copied.append(version)
    release = current_version(shipped)
    before = current_version(directory) if (directory / POINTER).exists() else None
    moved = release not in clashing and before != release and (before is None or follow)
    if moved:
        set_current(directory, release)
    return Adoption(tuple(copied), tuple(clashing), release, current_version(directory), before if moved else None)
