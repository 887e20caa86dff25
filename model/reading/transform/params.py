"""Every number that shapes the model's input, by stage, with the transform's version.

The model card stores ``TransformParams.to_dict()``; a model is always served with the
parameters it was trained with. Cards written before the stages existed hold a flat dict
of a few fields: those are mapped onto their stages, and everything else takes today's
defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from model.reading.transform.crop import CropParams
from model.reading.transform.decode import DecodeParams
from model.reading.transform.lines import LineParams
from model.reading.transform.paper import PaperParams
from model.reading.transform.segment import SegmentParams
from model.reading.transform.strip import StripParams

VERSION = 5
"""Bumped whenever what the network sees from the same photo changes; the golden tests pin it."""

STAGES: dict[str, type[Any]] = {
    "decode": DecodeParams,
    "paper": PaperParams,
    "lines": LineParams,
    "segment": SegmentParams,
    "crop": CropParams,
    "strip": StripParams,
}


@dataclass(frozen=True)
class TransformParams:
    decode: DecodeParams = field(default_factory=DecodeParams)
    paper: PaperParams = field(default_factory=PaperParams)
    lines: LineParams = field(default_factory=LineParams)
    segment: SegmentParams = field(default_factory=SegmentParams)
    crop: CropParams = field(default_factory=CropParams)
    strip: StripParams = field(default_factory=StripParams)
    version: int = VERSION

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformParams:
        """Parameters as a card stores them; unknown fields (from later versions) are ignored."""
        if not any(isinstance(data.get(stage), dict) for stage in STAGES):
            return cls._from_flat(data)
        stages = {name: _stage(kind, data.get(name, {})) for name, kind in STAGES.items()}
        return cls(**stages, version=int(data.get("version", VERSION)))

    @classmethod
    def _from_flat(cls, data: dict[str, Any]) -> TransformParams:
        """A card from before the stages: each known field goes to the stage that now owns it."""
        stages = {name: _stage(kind, data) for name, kind in STAGES.items()}
        return cls(**stages, version=1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One ``stage.name = value`` line per number, for people and for diffs."""
        lines = [f"version = {self.version}"]
        for name in STAGES:
            stage = getattr(self, name)
            lines += [f"{name}.{f.name} = {getattr(stage, f.name)!r}" for f in fields(stage)]
        return "\n".join(lines)


def _stage(kind: type[Any], data: dict[str, Any]) -> Any:
    known = {f.name: data[f.name] for f in fields(kind) if f.name in data}
    for name, value in known.items():
        if isinstance(value, list):
            known[name] = tuple(value)  # JSON has no tuples
    return kind(**known)
