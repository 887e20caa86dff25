"""The reference reader: a deliberately plain pipeline and its own small network, kept to measure against.

It never answers users. ``scripts.evaluate`` reads every set with it beside the product, so a
clever stage that does not beat this on every writer shows at once. The pipeline is the
textbook one: grey, divided by a large blur (the paper's light), Otsu's threshold, polarity
from the border, the largest component and the pieces near it, the stroke width brought to
MNIST's, 20x20 keeping aspect, the centre of mass at 28x28's centre. The network is a small
BatchNorm CNN trained 3 epochs on MNIST as it is, with light random affines, and 10 outputs:
no renderer, no "not a digit" (``model.learning.reference`` trains it). This module is the one place outside ``model.reading.transform``
that turns a photo into network input, on purpose.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from PIL import Image, ImageOps
from safetensors.torch import load_file
from torch import nn

from model.reading import registry
from model.reading.predictor import Candidate, DigitReading, NoDigit, Reading
from model.reading.transform import CropParams

NAME = "reference"
"""The reference's weights are ``models/reference.safetensors``, beside the shipped versions (``v<N>``)."""


@dataclass(frozen=True)
class PlainParams:
    long_side: int = 512
    min_side: int = 256
    """Photos are brought to a long side between these (area filter down, bilinear up), so that a
    small photo's strokes are several pixels wide when they are thresholded and measured."""
    blur: float = 0.05
    """The paper's light: a Gaussian blur this fraction of the long side wide."""
    smooth: float = 1.0
    """A light blur before Otsu, in pixels of the photo as sent: its noise and JPEG blocks make no
    ragged edges or pinholes, however much it was enlarged."""
    near: float = 0.25
    """Pieces whose box comes within this fraction of the largest component's size join it."""
    min_piece: float = 0.05
    """Pieces smaller than this fraction of the largest are specks."""
    stroke: tuple[float, float] = (2.0, 3.5)
    """MNIST's stroke width at 20x20, in pixels."""
    max_digits: int = 12
    """A number read component by component has at most this many digits."""


def plain_crop(source: bytes | Image.Image, p: PlainParams = PlainParams()) -> tuple[NDArray[np.float32], tuple[int, int, int, int]] | None:
    """The one digit of a photo as a 28x28 crop (ink = 1) and its box in the upright photo, or None."""
    found = _components(source, p)
    if found is None:
        return None
    labels, stats, scale = found
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = 1 + int(areas.argmax())
    x, y, w, h = (int(v) for v in stats[big, :4])
    reach = p.near * max(w, h)
    keep = [
        i
        for i in range(1, len(stats))
        if stats[i, cv2.CC_STAT_AREA] >= p.min_piece * areas.max()
        and stats[i, 0] <= x + w + reach
        and stats[i, 0] + stats[i, 2] >= x - reach
        and stats[i, 1] <= y + h + reach
        and stats[i, 1] + stats[i, 3] >= y - reach
    ]
    return _cut(labels, keep, scale, p)


def plain_crops(source: bytes | Image.Image, p: PlainParams = PlainParams()) -> list[tuple[NDArray[np.float32], tuple[int, int, int, int]]]:
    """Every digit of a number, the plain way: each component that is not a speck, pieces one above
    the other joined, left to right."""
    found = _components(source, p)
    if found is None:
        return []
    labels, stats, scale = found
    areas = stats[1:, cv2.CC_STAT_AREA]
    pieces = sorted((i for i in range(1, len(stats)) if areas[i - 1] >= p.min_piece * areas.max()), key=lambda i: int(stats[i, 0]))
    digits: list[list[int]] = []
    for i in pieces:
        if digits and _overlap(stats, digits[-1], i) >= 0.5:
            digits[-1].append(i)
        else:
            digits.append([i])
    return [cut for digit in digits[: p.max_digits] if (cut := _cut(labels, digit, scale, p)) is not None]


def _overlap(stats: NDArray[np.int32], digit: list[int], piece: int) -> float:
    """How much of the narrower one's width a piece shares with a digit's pieces."""
    left, right = min(int(stats[i, 0]) for i in digit), max(int(stats[i, 0] + stats[i, 2]) for i in digit)
    x, w = int(stats[piece, 0]), int(stats[piece, 2])
    return (min(right, x + w) - max(left, x)) / max(1, min(right - left, w))


def _components(source: bytes | Image.Image, p: PlainParams) -> tuple[NDArray[np.int32], NDArray[np.int32], float] | None:
    """The plain pipeline up to its components: labels, their stats, and the photo's scale over the working image's."""
    image = _upright(source).convert("L")
    scale = max(image.size) / min(max(max(image.size), p.min_side), p.long_side)
    if scale != 1:
        filter = Image.Resampling.BOX if scale > 1 else Image.Resampling.BILINEAR
        image = image.resize((max(1, round(image.width / scale)), max(1, round(image.height / scale))), filter)
    gray = np.asarray(image, dtype=np.float32) / 255
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) < 0.5:  # light ink on a dark ground
        gray = 1 - gray
    light = cv2.GaussianBlur(gray, (0, 0), p.blur * max(gray.shape))
    level = cv2.GaussianBlur(np.clip(gray / np.maximum(light, 1e-3), 0, 1), (0, 0), p.smooth * max(1.0, 1 / scale))
    u8 = np.round(level * 255).astype(np.uint8)
    _, binary = cv2.threshold(u8, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return (np.asarray(labels, np.int32), np.asarray(stats, np.int32), scale) if count >= 2 else None


def _cut(
    labels: NDArray[np.int32], keep: list[int], scale: float, p: PlainParams
) -> tuple[NDArray[np.float32], tuple[int, int, int, int]] | None:
    mask = np.isin(labels, keep)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    digit = mask[box[1] : box[3], box[0] : box[2]].astype(np.float32)
    digit = _stroke_to_mnist(digit, 20 / max(digit.shape), p.stroke)
    original = tuple(round(v * scale) for v in box)
    return _centred(digit), (original[0], original[1], original[2], original[3])


def digit_span(source: bytes | Image.Image) -> float:
    """How much of the upright photo's long side its digit spans, as the plain pipeline finds it (0 without ink)."""
    upright = _upright(source)
    found = plain_crop(upright)
    if found is None:
        return 0.0
    x0, y0, x1, y1 = found[1]
    return max(x1 - x0, y1 - y0) / max(upright.size)


def _upright(source: bytes | Image.Image) -> Image.Image:
    image = Image.open(io.BytesIO(source)) if isinstance(source, bytes) else source
    return ImageOps.exif_transpose(image) or image


def _stroke_to_mnist(digit: NDArray[np.float32], fit: float, stroke: tuple[float, float]) -> NDArray[np.float32]:
    """Thicken a hairline or thin a marker so that, at 20x20, it is as wide as MNIST's pen."""
    mask = digit > 0.5
    inside = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    outline = np.count_nonzero(mask & ~inside)
    if not outline:
        return digit
    width = np.count_nonzero(mask) / (outline / 2) * fit
    low, high = stroke
    if width < low:
        size = 1 + round((low - width) / fit)
        return np.asarray(cv2.dilate(digit, np.ones((size, size), np.uint8)), np.float32)
    if width > high:
        size = 1 + round((width - high) / fit)
        return np.asarray(cv2.erode(digit, np.ones((size, size), np.uint8)), np.float32)
    return digit


def _centred(digit: NDArray[np.float32]) -> NDArray[np.float32]:
    """MNIST's geometry: 20x20 keeping aspect (area filter), centre of mass at the centre of 28x28."""
    rows, cols = digit.shape
    fit = 20 / max(rows, cols)
    size = (max(1, round(cols * fit)), max(1, round(rows * fit)))
    small = np.asarray(cv2.resize(digit, size, interpolation=cv2.INTER_AREA if fit < 1 else cv2.INTER_LINEAR), np.float32)
    small = small / max(float(small.max()), 1e-6)
    moments = cv2.moments(small)
    cx, cy = (moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]) if moments["m00"] else (size[0] / 2, size[1] / 2)
    out = np.zeros((28, 28), np.float32)
    oy, ox = int(np.clip(round(14 - cy), 0, 28 - size[1])), int(np.clip(round(14 - cx), 0, 28 - size[0]))
    out[oy : oy + size[1], ox : ox + size[0]] = small
    return out


def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """MNIST's normalization, the same numbers the product's crops use."""
    crop = CropParams()
    return (pixels - crop.mean) / crop.std


class PlainNet(nn.Module):
    """Two conv blocks with batch norm and a small dense read-out: about 110k parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 32),
            nn.BatchNorm1d(32),
            nn.ReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x)
        return out


class ReferenceReader:
    """Reads one digit per photo the plain way (or, for numbers, every component left to right); the
    same ``predict`` as the product's ``Predictor``."""

    version = NAME

    def __init__(self, network: PlainNet, params: PlainParams = PlainParams(), numbers: bool = False) -> None:
        self.network = network.eval()
        self.params = params
        self.numbers = numbers

    @classmethod
    def load(cls, models: Path = registry.SHIPPED, numbers: bool = False) -> ReferenceReader:
        state = load_file(str(models / f"{NAME}.safetensors"))
        network = PlainNet()
        network.load_state_dict(state)
        return cls(network, numbers=numbers)

    def predict(self, image: bytes | Image.Image) -> Reading:
        found = plain_crops(image, self.params) if self.numbers else [c for c in [plain_crop(image, self.params)] if c is not None]
        if not found:
            return Reading(items=(), model_version=NAME, reason=NoDigit.BLANK)
        with torch.inference_mode():
            rows = F.softmax(self.network(normalize(torch.from_numpy(np.stack([pixels for pixels, _ in found]))[:, None])), 1)
        items = []
        for (pixels, box), row in zip(found, rows, strict=True):
            values, digits = row.topk(3)
            top = tuple(Candidate(int(d), round(float(v), 4)) for v, d in zip(values, digits, strict=True))
            items.append(DigitReading(top[0].digit, float(values[0]), top, box, pixels, np.zeros(0, np.float32), row.numpy()))
        return Reading(items=tuple(items), model_version=NAME)
