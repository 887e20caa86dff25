"""The stages in order: image -> working grey -> ink -> lines cleared -> digits -> 28x28 crops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from model.transform.crop import DigitCrop, crop_digit
from model.transform.decode import decode
from model.transform.lines import remove_rules
from model.transform.ops import union
from model.transform.paper import ink_map
from model.transform.params import TransformParams
from model.transform.segment import Group, find_digits


@dataclass(frozen=True)
class Segmentation:
    """The digits found in an image, left to right; ``reason`` says why when there are none."""

    crops: tuple[DigitCrop, ...]
    reason: str | None = None


class DigitTransform:
    """Image to digit crops, and crops to the network's input tensor."""

    def __init__(self, params: TransformParams | None = None) -> None:
        self.params = params or TransformParams()

    def segment(self, source: bytes | Image.Image, single: bool = False) -> Segmentation:
        """Find the digits in an image, left to right.

        ``single`` says the image holds exactly one digit (a training sample), so every
        kept stroke belongs to it; inference never sets it.
        """
        p = self.params
        work = decode(source, p.decode)
        if min(work.gray.shape) < 8:
            return Segmentation(crops=(), reason="the image is too small or too thin to hold a digit")
        ink, on_lines = remove_rules(ink_map(work.gray, p.paper), p.lines)
        found = find_digits(ink, on_lines, p.segment)
        if isinstance(found, str):
            return Segmentation(crops=(), reason=found)
        groups = found.groups
        if single:
            box = groups[0].box
            for group in groups[1:]:
                box = union(box, group.box)
            groups = (Group(box, tuple(sorted(index for group in groups for index in group.members))),)
        if len(groups) > p.segment.max_digits:
            return Segmentation(crops=(), reason="too many shapes to be a number")
        crops = tuple(crop_digit(ink, found.labels, group.members, group.box, work.scale, p.crop) for group in groups)
        return Segmentation(crops=crops)

    def to_tensor(self, crops: tuple[DigitCrop, ...] | list[DigitCrop]) -> torch.Tensor:
        """Stack crops into the normalized batch the network was trained on."""
        canvas = self.params.crop.canvas
        if not crops:
            return torch.empty((0, 1, canvas, canvas))
        return self.normalize(torch.from_numpy(np.stack([c.pixels for c in crops])).unsqueeze(1))

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """Ink in [0, 1] to the network's input scale; training batches use this too."""
        return (pixels - self.params.crop.mean) / self.params.crop.std
