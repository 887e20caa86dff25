"""The stages in order: image -> working grey -> ink -> lines cleared -> digits -> 28x28 crops."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from model.reading.transform.crop import DigitCrop, crop_digit
from model.reading.transform.decode import decode
from model.reading.transform.lines import remove_rules
from model.reading.transform.ops import Gray
from model.reading.transform.paper import dark_ink, ink_map
from model.reading.transform.params import TransformParams
from model.reading.transform.segment import BLANK, Group, find_digits, joinable, touches_frame, whole_frame


@dataclass(frozen=True)
class Segmentation:
    """The digits found in an image, left to right; ``reason`` says why when there are none.

    ``pairs[i]``, when not None, is crops ``i`` and ``i + 1`` read as one digit: pieces that
    don't touch may be one digit or two, and the network's readings of both decide.
    """

    crops: tuple[DigitCrop, ...]
    reason: str | None = None
    pairs: tuple[DigitCrop | None, ...] = ()
    whole: DigitCrop | None = None
    """The whole frame as one digit, offered when ink touches the frame or no paper was found."""


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
        gray = dark_ink(work.gray, p.paper)
        ink, on_lines = remove_rules(ink_map(gray, p.paper), p.lines)
        found = find_digits(ink, on_lines, p.segment)
        whole = None
        if found != BLANK and (isinstance(found, str) or any(touches_frame(g, ink.shape) for g in found.groups)):
            whole = self._whole(gray, work.scale)
        if isinstance(found, str):
            if single and whole is not None:
                return Segmentation(crops=(whole,))
            return Segmentation(crops=(), reason=found, whole=whole)
        groups = found.groups
        if single:
            groups = (functools.reduce(Group.join, groups),)
        if len(groups) > p.segment.max_digits:
            return Segmentation(crops=(), reason="too many shapes to be a number")

        def cut(group: Group) -> DigitCrop:
            return crop_digit(ink, found.labels, group.members, group.box, work.scale, p.crop)

        pairs = tuple(cut(a.join(b)) if joinable(a, b, p.segment) else None for a, b in itertools.pairwise(groups))
        return Segmentation(crops=tuple(cut(group) for group in groups), pairs=pairs, whole=whole)

    def _whole(self, gray: Gray, scale: float) -> DigitCrop | None:
        split = whole_frame(gray, self.params.segment)
        if split is None:
            return None
        strength, found = split
        (group,) = found.groups
        return crop_digit(strength, found.labels, group.members, group.box, scale, self.params.crop)

    def to_tensor(self, crops: tuple[DigitCrop, ...] | list[DigitCrop]) -> torch.Tensor:
        """Stack crops into the normalized batch the network was trained on."""
        canvas = self.params.crop.canvas
        if not crops:
            return torch.empty((0, 1, canvas, canvas))
        return self.normalize(torch.from_numpy(np.stack([c.pixels for c in crops])).unsqueeze(1))

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """Ink in [0, 1] to the network's input scale; training batches use this too."""
        return (pixels - self.params.crop.mean) / self.params.crop.std
