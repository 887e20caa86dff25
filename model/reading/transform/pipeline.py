"""The stages in order: image -> working grey -> ink -> lines cleared -> digits -> 28x28 crops."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from model.reading.transform.crop import Crop, DigitCrop
from model.reading.transform.decode import Decode
from model.reading.transform.lines import Lines
from model.reading.transform.ops import Gray, Mask, member_mask
from model.reading.transform.paper import Paper
from model.reading.transform.params import TransformParams
from model.reading.transform.reasons import NoDigit
from model.reading.transform.segment import Found, Group, Segment, joinable, touches_frame
from model.reading.transform.strip import NumberStrip, Strip


class Stages(NamedTuple):
    """The transform's stages in the order a photo meets them. Each of the first four takes what the one
    before made; crop and strip take the cleared ink with what segmentation found on it (its labels and
    groups) and decode's scale back to the photo."""

    decode: Decode
    paper: Paper
    lines: Lines
    segment: Segment
    crop: Crop
    strip: Strip


@dataclass(frozen=True)
class Segmentation:
    """The digits found in an image, left to right; ``reason`` says why when there are none.

    ``pairs[i]``, when not None, is crops ``i`` and ``i + 1`` read as one digit: pieces that
    don't touch may be one digit or two, and the network's readings of both decide.
    """

    crops: tuple[DigitCrop, ...]
    reason: NoDigit | None = None
    pairs: tuple[DigitCrop | None, ...] = ()
    whole: DigitCrop | None = None
    """The whole frame as one digit, offered when ink touches the frame or no paper was found (``_offers_whole``)."""
    strip: NumberStrip | None = None
    """The main line of writing for the number reader: of the digits found, else of the whole frame."""
    written: Shapes | None = field(default=None, repr=False)
    """What the strip was cut from: where :meth:`cut` finds a digit the number reader placed."""

    def cut(self, span: tuple[int, int]) -> DigitCrop | None:
        """The strip's ink between two of its columns as one digit crop, as the digit network reads one."""
        if self.strip is None or self.written is None:
            return None
        return self.written.between(self.strip, span)


@dataclass(frozen=True)
class Shapes:
    """Digits as pixel groups on an ink map (the working image's), before they are cut out."""

    ink: Gray
    labels: NDArray[np.int32]
    groups: tuple[Group, ...]
    scale: float
    crop: Crop

    def cut(self, group: Group) -> DigitCrop:
        return self.crop(self.ink, self.labels, group, self.scale)

    def strip(self, stage: Strip) -> NumberStrip:
        return stage(self.ink, self.labels, self.groups, self.scale)

    def between(self, strip: NumberStrip, span: tuple[int, int]) -> DigitCrop | None:
        """The strip's ink between two of its columns, cut out as one digit; None where there is none."""
        (x, dx), (y, dy) = strip.columns, strip.rows
        x0, x1 = max(0, int((x + span[0] * dx) / self.scale)), int(np.ceil((x + span[1] * dx) / self.scale))
        y0, y1 = max(0, int(y / self.scale)), int(np.ceil((y + strip.pixels.shape[0] * dy) / self.scale))
        own = member_mask(self.labels[y0:y1, x0:x1], strip.members)
        if not own.any():
            return None
        ys, xs = np.nonzero(own)
        box = (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1)
        labels = np.zeros_like(self.labels)
        labels[y0:y1, x0:x1][own] = 1
        return self.crop(self.ink, labels, Group(box, (1,)), self.scale)

    def kept(self) -> Mask:
        """The digits' own pixels: what the solid view shows as full ink (the grey view as it is)."""
        kept = np.zeros(self.ink.shape, dtype=bool)
        for group in self.groups:
            x0, y0, x1, y1 = group.box
            kept[y0:y1, x0:x1] |= member_mask(self.labels[y0:y1, x0:x1], group.members)
        return kept


@dataclass(frozen=True)
class _Found:
    shapes: Shapes | None
    """The segmented digits; None with ``reason`` when there are none."""
    whole: Shapes | None
    """The whole frame as one digit, when ink touches the frame or no paper was found."""
    reason: NoDigit | None
    work_shape: tuple[int, ...]


def _offers_whole(found: Found | NoDigit, shape: tuple[int, ...]) -> bool:
    """May the whole frame be one digit? Where shapes touch the frame, or none were found on paper; not
    on a blank page, nor beside a lone line across the photo (the frame's split holds that line, or a shadow)."""
    if isinstance(found, NoDigit):
        return found not in (NoDigit.BLANK, NoDigit.LINE_ACROSS)
    return any(touches_frame(group, shape) for group in found.groups)


class DigitTransform:
    """Image to digit crops, and crops to the network's input tensor: the five stages in order."""

    def __init__(self, params: TransformParams | None = None) -> None:
        self.params = p = params or TransformParams()
        self.stages = Stages(Decode(p.decode), Paper(p.paper), Lines(p.lines), Segment(p.segment), Crop(p.crop), Strip(p.strip))

    def __repr__(self) -> str:
        stages = "".join(f"    {stage!r},\n" for stage in self.stages)
        return f"DigitTransform(\n{stages}    version={self.params.version},\n)"

    def __call__(self, source: bytes | Image.Image, single: bool = False) -> Segmentation:
        """Every stage in order: the digits in an image, left to right.

        ``single`` says the image holds exactly one digit (a training sample), so every
        kept stroke belongs to it; inference never sets it.
        """
        return self._segmentation(self._find(source, single), single)

    def with_kept(self, source: bytes | Image.Image, single: bool = False) -> tuple[Segmentation, Mask]:
        """The transform's :class:`Segmentation` and :meth:`kept_ink` of one image in one pass: training checks what it learns from."""
        found = self._find(source, single)
        return self._segmentation(found, single), self._kept(found)

    def _segmentation(self, found: _Found, single: bool) -> Segmentation:
        whole = found.whole.cut(found.whole.groups[0]) if found.whole is not None else None
        written = found.shapes or found.whole
        strip = written.strip(self.stages.strip) if written is not None and not single else None
        if found.shapes is None:
            if single and whole is not None:
                return Segmentation(crops=(whole,))
            return Segmentation(crops=(), reason=found.reason, whole=whole, strip=strip, written=written)
        shapes, segment = found.shapes, self.params.segment
        pairs = tuple(shapes.cut(a.join(b)) if joinable(a, b, segment) else None for a, b in itertools.pairwise(shapes.groups))
        crops = tuple(shapes.cut(group) for group in shapes.groups)
        return Segmentation(crops=crops, pairs=pairs, whole=whole, strip=strip, written=written)

    def strip(self, source: bytes | Image.Image) -> NumberStrip | None:
        """The main line of writing as the number reader sees it (training's door), None where there is no writing."""
        found = self._find(source, single=False)
        written = found.shapes or found.whole
        return written.strip(self.stages.strip) if written is not None else None

    def kept_ink(self, source: bytes | Image.Image, single: bool = False) -> Mask:
        """Which pixels of the working image (the mask's shape) reach the network as ink, the digits'
        own pixels in what the transform finds (the whole frame's where it finds none): for
        measuring how much of the real strokes the transform keeps."""
        return self._kept(self._find(source, single))

    def _kept(self, found: _Found) -> Mask:
        shapes = found.shapes or found.whole
        return shapes.kept() if shapes is not None else np.zeros(found.work_shape, dtype=bool)

    def _find(self, source: bytes | Image.Image, single: bool) -> _Found:
        stages = self.stages
        work = stages.decode(source)
        if min(work.gray.shape) < self.params.decode.min_side:
            return _Found(None, None, NoDigit.TOO_SMALL, work.gray.shape)
        inked = stages.paper(work.gray)
        cleared = stages.lines(inked.ink)
        found, shape = stages.segment(cleared), cleared.ink.shape
        whole = self._whole(inked.gray, work.scale) if _offers_whole(found, shape) else None
        if isinstance(found, NoDigit):
            return _Found(None, whole, found, shape)
        groups = found.groups
        if single:
            groups = (functools.reduce(Group.join, groups),)
        if len(groups) > self.params.segment.max_digits:
            return _Found(None, None, NoDigit.TOO_MANY, shape)
        return _Found(Shapes(cleared.ink, found.labels, groups, work.scale, stages.crop), whole, None, shape)

    def _whole(self, gray: Gray, scale: float) -> Shapes | None:
        split = self.stages.segment.whole(gray)
        if split is None:
            return None
        strength, found = split
        return Shapes(strength, found.labels, found.groups, scale, self.stages.crop)

    def views(self, crops: tuple[DigitCrop, ...] | list[DigitCrop]) -> NDArray[np.float32]:
        """Stack crops into the normalized batch the network was trained on: every crop's grey view,
        then every crop's solid view (``2 * len(crops)`` inputs, each 1 x 28 x 28)."""
        canvas = self.params.crop.canvas
        if not crops:
            return np.zeros((0, 1, canvas, canvas), np.float32)
        return self.normalize(np.stack([c.pixels for c in crops] + [c.solid for c in crops])[:, None])

    def normalize(self, pixels: NDArray[np.float32]) -> NDArray[np.float32]:
        """Ink in [0, 1] to the network's input scale; training batches use this too."""
        crop = self.params.crop
        normalized: NDArray[np.float32] = (pixels.astype(np.float32) - np.float32(crop.mean)) / np.float32(crop.std)
        return normalized
