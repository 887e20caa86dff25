"""An evaluation's readings kept photo by photo, and two runs compared.

Accuracy hides a change that moves answers both ways; a build of a library the transform runs on
(OpenCV, ONNX Runtime) must leave every answer as it was. One run writes what it read of each photo,
a later run over the same sets (same sizes, same seeds) is compared with it photo by photo."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from model.judging.evaluation import Report
from model.reading.predictor import Reading

Row = dict[str, str | float | None]


@dataclass(frozen=True)
class Difference:
    """How one set's readings moved between two runs."""

    name: str
    photos: int
    answers: int
    """Photos answered differently (another number, or "no digit" for another reason)."""
    confidence: float
    """The largest change of confidence among photos answered the same."""


def write(reports: Sequence[Report], path: Path) -> None:
    """One JSON line per photo: its set, label, answer, confidence and why there was none."""
    with path.open("w") as handle:
        for report in reports:
            for outcome in report.outcomes:
                handle.write(json.dumps(_line(report.name, outcome.label, outcome.reading)) + "\n")


def against(reports: Sequence[Report], path: Path) -> list[Difference]:
    """This run's readings beside those ``write`` stored at ``path``, set by set, for the sets both read."""
    before: dict[str, list[Row]] = {}
    with path.open() as handle:
        for line in handle:
            row = json.loads(line)
            before.setdefault(row["set"], []).append(row)
    differences = []
    for report in reports:
        rows = before.get(report.name)
        if rows is None:
            continue
        if len(rows) != len(report.outcomes):
            raise ValueError(f"{report.name}: {len(report.outcomes)} photos read, {len(rows)} in {path}: read the same sizes")
        now = [_line(report.name, outcome.label, outcome.reading) for outcome in report.outcomes]
        pairs = list(zip(rows, now, strict=True))
        moved = sum(_answer(a) != _answer(b) for a, b in pairs)
        drift = max((abs(_confidence(a) - _confidence(b)) for a, b in pairs if _answer(a) == _answer(b)), default=0.0)
        differences.append(Difference(report.name, len(now), moved, drift))
    return differences


def _line(name: str, label: str, reading: Reading) -> Row:
    reason = reading.reason.name if reading.reason else None
    return {"set": name, "label": label, "read": reading.number, "confidence": round(reading.confidence, 6), "reason": reason}


def _answer(row: Row) -> tuple[object, object]:
    return row["read"], row["reason"]


def _confidence(row: Row) -> float:
    return float(row["confidence"] or 0.0)
