"""The one shared transform: any image in, MNIST-like 28x28 digit crops out.

Training and inference both go through :class:`DigitTransform`, so the network only ever
sees what this module produces.  The steps follow MNIST's own recipe, made robust to
photos of paper:

1. ``decode``: JPEG, PNG, WebP, BMP, GIF (first frame), HEIC; EXIF orientation; any
   mode; decoded no larger than needed (JPEG ``draft``), to a grey working image whose
   long side is ``work_size``.
2. ``ink_and_lines``: per-pixel ink strength in [0, 1] relative to the local paper level, so
   off-white paper, gradients and soft shadows read as paper; polarity is detected, so
   chalk on a board and MNIST's white-on-black read as ink too; ruled and squared
   notebook lines are subtracted.
3. ``segment``: threshold, connected components, specks and page edges dropped, broken
   strokes of one digit merged, digits ordered left to right.
4. ``crop``: stroke width brought into MNIST's range, fitted into 20x20 keeping aspect,
   centre of mass at the centre of 28x28; ``to_tensor`` normalizes like training.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import pillow_heif
import torch
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

pillow_heif.register_heif_opener()  # iPhones save HEIC; sent as a file, it reaches us as is
cv2.setNumThreads(1)  # a photo is small: parallelism comes from serving several photos at once

Gray = NDArray[np.float32]
Box = tuple[int, int, int, int]

CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


class ImageError(ValueError):
    """The input cannot be read as an image; the message is fit to show a user."""


@dataclass(frozen=True)
class TransformParams:
    """Every number that shapes the model's input; stored in the model card."""

    work_size: int = 512
    canvas: int = 28
    digit_box: int = 20
    mean: float = 0.1307
    std: float = 0.3081
    max_digits: int = 12
    min_contrast: float = 0.18
    relative_threshold: float = 0.4
    absolute_threshold: float = 0.12
    stroke_range: tuple[float, float] = (2.2, 4.6)
    min_paper_fraction: float = 0.45
    max_ink_fraction: float = 0.4

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformParams:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "stroke_range" in known:
            known["stroke_range"] = tuple(known["stroke_range"])
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DigitCrop:
    """One digit as the network sees it (ink = 1, before normalization) and where it was."""

    pixels: NDArray[np.float32]
    box: Box


@dataclass(frozen=True)
class Segmentation:
    """The digits found in an image, left to right; ``reason`` says why when there are none."""

    crops: tuple[DigitCrop, ...]
    reason: str | None = None


@dataclass(frozen=True)
class WorkImage:
    """The grey working image and the factor that maps its pixels back to the upright original."""

    gray: Gray
    scale: float


def open_image(source: bytes | Image.Image) -> Image.Image:
    """Open lazily and refuse what Pillow refuses, with a message a person understands."""
    if isinstance(source, Image.Image):
        image = source
    else:
        if len(source) == 0:
            raise ImageError("the file is empty")
        try:
            image = Image.open(io.BytesIO(source))
        except Image.DecompressionBombError as err:
            raise ImageError(_too_big()) from err
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise ImageError("this file is not an image I can read") from err
    width, height = image.size
    if width * height > (Image.MAX_IMAGE_PIXELS or width * height):
        raise ImageError(_too_big())
    if width < 1 or height < 1:
        raise ImageError("the image has no pixels")
    return image


def _too_big() -> str:
    limit = Image.MAX_IMAGE_PIXELS or 0
    return f"the image is too large to read safely (over {limit / 1e6:.0f} megapixels)"


def decode(source: bytes | Image.Image, work_size: int) -> WorkImage:
    """Decode to grey in [0, 1] with the long side at most ``work_size``.

    JPEG is decoded at a reduced scale straight away (``draft``), which makes a phone
    photo several times cheaper than a full decode followed by a resize.
    """
    image = open_image(source)
    try:
        image.seek(0)
        orig_w, orig_h = image.size
        if image.format == "JPEG":
            ratio = work_size / max(orig_w, orig_h)
            if ratio < 1:
                image.draft("L", (int(orig_w * ratio) + 1, int(orig_h * ratio) + 1))
        image = ImageOps.exif_transpose(image) or image
        upright = (orig_h, orig_w) if _swapped(image, orig_w, orig_h) else (orig_w, orig_h)
        gray = _to_gray(image)
    except ImageError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageError(_too_big()) from err
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise ImageError("the image file is damaged or truncated") from err
    height, width = gray.shape
    ratio = min(1.0, work_size / max(height, width))
    if ratio < 1:
        size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
        gray = _resize(gray, size, cv2.INTER_AREA if ratio < 0.5 else cv2.INTER_LINEAR)  # bilinear is enough above half
    scale = upright[0] / gray.shape[1]
    return WorkImage(gray=gray, scale=scale)


def _swapped(image: Image.Image, orig_w: int, orig_h: int) -> bool:
    """True when EXIF orientation turned the picture by 90 degrees."""
    w, h = image.size
    return (w > h) != (orig_w > orig_h)


def _to_gray(image: Image.Image) -> Gray:
    """Any Pillow mode to float grey in [0, 1]; transparency is laid on a contrasting ground."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        lum = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        if alpha.min() >= 1.0:
            return lum
        opaque = alpha > 0.5
        ink_is_light = bool(opaque.any()) and float(lum[opaque].mean()) > 0.5
        ground = 0.0 if ink_is_light else 1.0
        return np.asarray(lum * alpha + ground * (1 - alpha), dtype=np.float32)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        data = np.asarray(image, dtype=np.float32)
        top = float(data.max())
        low = float(data.min())
        return ((data - low) / (top - low) if top > low else np.zeros_like(data)).astype(np.float32)
    if image.mode != "L":
        image = image.convert("RGB").convert("L")
    return np.asarray(image, dtype=np.float32) / 255.0


def _small(gray: Gray) -> Gray:
    """A copy whose long side is about 48 pixels: where lighting and polarity are judged, cheaply."""
    height, width = gray.shape
    factor = max(1, max(height, width) // 48)
    if factor == 1 or min(height, width) < factor:
        return gray
    return _block_mean(gray, factor)


def _block_mean(gray: Gray, factor: int) -> Gray:
    """The mean of each whole ``factor`` x ``factor`` block; whole blocks take OpenCV's fast area path."""
    rows, cols = gray.shape[0] // factor, gray.shape[1] // factor
    return _resize(gray[: rows * factor, : cols * factor], (cols, rows), cv2.INTER_AREA)


def quantiles(values: NDArray[np.float32], qs: tuple[float, ...]) -> list[float]:
    """``np.quantile``'s linear interpolation on a flat array, by partition: several times
    cheaper on the small arrays this module measures, called a dozen times per photo."""
    last = values.size - 1
    positions = [q * last for q in qs]
    lows = [int(p) for p in positions]
    parted = np.partition(values, sorted({*lows, *(min(lo + 1, last) for lo in lows)}))
    pairs = zip(lows, positions, strict=True)
    return [float(parted[lo]) + (float(parted[min(lo + 1, last)]) - float(parted[lo])) * (p - lo) for lo, p in pairs]


def _enlarge(small: Gray, shape: tuple[int, ...]) -> Gray:
    if small.shape == shape:
        return small
    return _resize(small, (shape[1], shape[0]), cv2.INTER_LINEAR)


def _resize(gray: Gray, size: tuple[int, int], interpolation: int) -> Gray:
    """OpenCV's resize: ``INTER_AREA`` is the area filter MNIST's recipe asks for, and an order
    of magnitude cheaper than Pillow's on float images."""
    return np.asarray(cv2.resize(gray, size, interpolation=interpolation), dtype=np.float32)


def _erode(image: Gray, width: int, height: int) -> Gray:
    """Minimum over a ``width`` x ``height`` window; pixels outside the image are ignored."""
    return np.asarray(cv2.erode(image, np.ones((height, width), np.uint8)), dtype=np.float32)


def _dilate(image: Gray, width: int, height: int) -> Gray:
    """Maximum over a ``width`` x ``height`` window; pixels outside the image are ignored."""
    return np.asarray(cv2.dilate(image, np.ones((height, width), np.uint8)), dtype=np.float32)


def ink_and_lines(gray: Gray) -> tuple[Gray, NDArray[np.bool_]]:
    """Ink strength per pixel (0 on paper, towards 1 on strokes, whatever the polarity; lines
    removed), and where notebook lines ran, so that what is left of them is not read as a 1.

    The paper is a grey closing of the small copy (max filter, then min filter): it
    fills every dark feature narrower than the window — strokes, even a fat marker's —
    while a shadow's edge, a step wider than any window, stays where it was.
    """
    small = _small(gray)
    window = max(3, int(max(small.shape) / 2.5)) | 1
    if _light_ink(gray, small):
        gray, small = 1.0 - gray, 1.0 - small
    closed = _erode(_dilate(small, window, window), window, window)
    level = _enlarge(np.asarray(cv2.blur(closed, (3, 3), borderType=cv2.BORDER_REPLICATE), dtype=np.float32), gray.shape)
    ink = np.maximum(level, np.float32(0.05))
    np.divide(gray, ink, out=ink)
    np.subtract(np.float32(1.0), ink, out=ink)
    np.clip(ink, 0.0, 1.0, out=ink)
    return remove_rules(ink)


def _light_ink(gray: Gray, small: Gray) -> bool:
    """Is the ink lighter than its ground (chalk on a board, MNIST's white on black)?

    Where the image's border is even, it is the ground, and the ink is whichever
    extreme lies farther from it. Otherwise (shadows, lines) ink is the local minority,
    so the sign of what stands out from a local median decides.
    """
    ring = max(1, min(small.shape) // 12)
    border = np.concatenate([small[:ring].ravel(), small[-ring:].ravel(), small[:, :ring].ravel(), small[:, -ring:].ravel()])
    low, ground, high = quantiles(border, (0.1, 0.5, 0.9))
    if high - low < 0.08:
        sample = gray[:: max(1, gray.shape[0] // 96), :: max(1, gray.shape[1] // 96)]
        darkest, lightest = quantiles(sample.ravel(), (0.005, 0.995))
        return bool(ground < 0.5 and lightest - ground > ground - darkest)  # light ink needs a dark ground
    coarse = small if min(small.shape) < 8 else _block_mean(small, 2)  # the median is costly; 24 px decide a sign
    residual = coarse - ndimage.median_filter(coarse, size=max(3, max(coarse.shape) // 4) | 1, mode="nearest")
    return float(np.clip(residual, 0, None).sum()) > float(np.clip(-residual, 0, None).sum())


def remove_rules(ink: Gray) -> tuple[Gray, NDArray[np.bool_]]:
    """Clear ruled or squared notebook lines, keeping the strokes that cross them.

    A line is long (most of the page), thin and about as dark along its whole length.
    Lines are found on a half-size copy (they survive a 2x2 max-pool; it is 4x cheaper),
    on a top-hat across the line's direction, so a shadow lying over part of a line does
    not hide it. Only the line's own pixels are cleared: where a clearly darker stroke
    crosses it, the stroke is kept. Returns the ink and where lines ran.
    """
    height, width = ink.shape
    even = ink[: height - height % 2, : width - width % 2]
    half = np.maximum(np.maximum(even[0::2, 0::2], even[1::2, 0::2]), np.maximum(even[0::2, 1::2], even[1::2, 1::2]))
    result = ink.copy()
    on_lines = np.zeros(ink.shape, dtype=bool)
    for axis in (1, 0):
        span = half.shape[axis]
        if span < 16:
            continue
        across = (7, 1) if axis == 0 else (1, 7)  # (width, height) of a window across the lines
        thin = half - _dilate(_erode(half, *across), *across)
        band = _dilate(thin, *(3 if n > 1 else 1 for n in across))
        length = max(5, span // 8)
        along = (length, 1) if axis == 1 else (1, length)
        opened = _dilate(_erode(band, *along), *along)
        count, candidates, stats = _label((opened > 0.06).view(np.uint8))
        if count <= 1:
            continue
        extents = stats[:, cv2.CC_STAT_WIDTH if axis == 1 else cv2.CC_STAT_HEIGHT]
        is_line = (extents >= 0.75 * span) & (stats[:, cv2.CC_STAT_AREA] / extents <= max(6.0, 0.03 * span))
        is_line[0] = False
        if not is_line.any():
            continue
        levels = np.zeros(count, dtype=np.float32)
        for index in np.flatnonzero(is_line).tolist():
            x, y, w, h = (int(v) for v in stats[index, :4])
            levels[index] = np.median(opened[y : y + h, x : x + w][candidates[y : y + h, x : x + w] == index])
        lines = _double(is_line[candidates])
        level = 1.5 * _double(levels[candidates])
        view = result[: lines.shape[0], : lines.shape[1]]
        view[lines & ((view <= level) | ((_double(thin) <= level) & (view < 0.5)))] = 0.0
        on_lines[: lines.shape[0], : lines.shape[1]] |= lines
    return result, on_lines


def _label(mask: NDArray[np.uint8]) -> tuple[int, NDArray[np.int32], NDArray[np.int32]]:
    """8-connected components with their boxes and areas (row 0 is the background).

    Grana's algorithm: with statistics, three times faster than OpenCV's default here.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return int(count), np.asarray(labels, dtype=np.int32), np.asarray(stats, dtype=np.int32)


def _double(small: NDArray[Any]) -> NDArray[Any]:
    if small.dtype == np.bool_:
        return _double(small.view(np.uint8)).view(np.bool_)
    return np.asarray(cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST_EXACT))


class DigitTransform:
    """Image to digit crops, and crops to the network's input tensor."""

    def __init__(self, params: TransformParams | None = None) -> None:
        self.params = params or TransformParams()

    def segment(self, source: bytes | Image.Image, single: bool = False) -> Segmentation:
        """Find the digits in an image, left to right.

        ``single`` says the image holds exactly one digit (a training sample), so every
        kept stroke belongs to it; inference never sets it.
        """
        work = decode(source, self.params.work_size)
        if min(work.gray.shape) < 8:
            return Segmentation(crops=(), reason="the image is too small or too thin to hold a digit")
        ink, on_lines = ink_and_lines(work.gray)
        found = self._components(ink, on_lines)
        if isinstance(found, str):
            return Segmentation(crops=(), reason=found)
        labels, groups = found
        if single:
            boxes = [box for box, _ in groups]
            union = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            groups = [(union, sorted(index for _, members in groups for index in members))]
        if len(groups) > self.params.max_digits:
            return Segmentation(crops=(), reason="too many shapes to be a number")
        crops = tuple(self._crop(ink, labels, box, members, work.scale) for box, members in groups)
        return Segmentation(crops=crops)

    def _components(self, ink: Gray, on_lines: NDArray[np.bool_]) -> tuple[NDArray[np.int32], list[tuple[Box, list[int]]]] | str:
        """Label ink blobs and group them into digits, or say why there is no digit."""
        p = self.params
        strong = ink[ink > p.absolute_threshold]
        keep = min(30, strong.size)
        peak = float(np.partition(strong, strong.size - keep)[strong.size - keep]) if keep else 0.0
        if peak < p.min_contrast:
            return "no ink: the page looks blank"
        mask = ink > max(p.absolute_threshold, p.relative_threshold * peak)
        if np.count_nonzero(ink < 0.08) < p.min_paper_fraction * ink.size or np.count_nonzero(mask) > p.max_ink_fraction * ink.size:
            return "this does not look like writing on paper"
        _, labels, stats = _label(mask.view(np.uint8))
        areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
        areas[0] = 0
        height, width = ink.shape
        largest = int(areas.max())
        min_area = max(4, int(0.03 * largest))
        blobs: list[tuple[int, Box]] = []
        for index in np.flatnonzero(areas >= min_area).tolist():
            x, y, w, h = (int(v) for v in stats[index, :4])
            box = (x, y, x + w, y + h)
            if _is_page_edge(box, width, height):
                continue
            region = (slice(y, y + h), slice(x, x + w))
            if not _looks_like_ink(ink[region], labels[region] == index, on_lines[region], peak):
                continue
            blobs.append((index, box))
        if not blobs:
            return "no digit-sized shapes found"
        if len(blobs) > 6 * p.max_digits:
            return "too many shapes to be a number"
        groups = [(box, members) for box, members in _merge_strokes(blobs, areas) if _is_writing(members)]
        if not groups:
            return "the shapes here are not handwriting"
        tallest = max(_height(box) for box, _ in groups)
        kept = [(box, members) for box, members in groups if _height(box) >= 0.3 * tallest]
        kept.sort(key=lambda group: (group[0][0] + group[0][2]) / 2)
        return labels, kept

    def _crop(self, ink: Gray, labels: NDArray[np.int32], box: Box, members: list[int], scale: float) -> DigitCrop:
        """Cut one digit out, normalize its stroke and place it MNIST-style."""
        p = self.params
        x0, y0, x1, y1 = box
        pad = 2
        ya, yb = max(0, y0 - pad), min(ink.shape[0], y1 + pad)
        xa, xb = max(0, x0 - pad), min(ink.shape[1], x1 + pad)
        mask = np.isin(labels[ya:yb, xa:xb], members)
        region = ink[ya:yb, xa:xb] * cv2.dilate(mask.view(np.uint8), CROSS, iterations=pad)
        strength = quantiles(region[mask], (0.9,))[0] if mask.any() else 1.0
        region = np.clip(region / max(strength, 1e-3), 0.0, 1.0).astype(np.float32)
        fit = p.digit_box / max(y1 - y0, x1 - x0)
        region = _normalize_stroke(region, mask, fit, p.stroke_range)
        pixels = _place(region, fit, p.digit_box, p.canvas)
        box = (int(x0 * scale), int(y0 * scale), int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale)))
        return DigitCrop(pixels=pixels, box=box)

    def to_tensor(self, crops: tuple[DigitCrop, ...] | list[DigitCrop]) -> torch.Tensor:
        """Stack crops into the normalized batch the network was trained on."""
        if not crops:
            return torch.empty((0, 1, self.params.canvas, self.params.canvas))
        return self.normalize(torch.from_numpy(np.stack([c.pixels for c in crops])).unsqueeze(1))

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """Ink in [0, 1] to the network's input scale; training batches use this too."""
        return (pixels - self.params.mean) / self.params.std


def _looks_like_ink(ink: Gray, blob: NDArray[np.bool_], on_lines: NDArray[np.bool_], peak: float) -> bool:
    """Strokes of one pen: about as strong as the strongest, sharp-edged, and not what is left of a notebook line.

    A shadow's edge or a smudge is fainter and soft (its ink fades over many pixels); a
    piece of a ruled line that survived removal lies along the line it came from.
    """
    values = ink[blob]
    if float(values.max()) < 0.6 * peak:
        return False
    if float(on_lines[blob].mean()) > 0.6:
        return False
    edge = blob & ~_erode_mask(blob)
    gx = cv2.Sobel(ink, cv2.CV_32F, 1, 0, ksize=1, borderType=cv2.BORDER_REPLICATE)  # central differences, x2
    gy = cv2.Sobel(ink, cv2.CV_32F, 0, 1, ksize=1, borderType=cv2.BORDER_REPLICATE)
    sharpness = float(cv2.magnitude(gx, gy)[edge].mean()) / 2 / max(quantiles(values, (0.5,))[0], 1e-3)
    return sharpness >= 0.1


def _is_writing(members: list[int]) -> bool:
    """A digit is a few pen strokes, not a texture: trees, grass or a patterned cloth merge
    into one group of many pieces."""
    return len(members) <= 12


def stroke_width(mask: NDArray[np.bool_]) -> float:
    """Mean width of the strokes in a mask: area over half the outline (a stroke has two sides)."""
    outline = np.count_nonzero(mask & ~_erode_mask(mask))
    return np.count_nonzero(mask) / (outline / 2.0) if outline else 0.0


def _erode_mask(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Erosion by a cross; outside the array counts as background, so pixels on its border are outline."""
    eroded = cv2.erode(np.ascontiguousarray(mask).view(np.uint8), CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return np.asarray(eroded).view(np.bool_)


def _is_page_edge(box: Box, width: int, height: int) -> bool:
    """A blob that touches the border and runs along most of it: a page or table edge."""
    x0, y0, x1, y1 = box
    touches = x0 == 0 or y0 == 0 or x1 == width or y1 == height
    return touches and ((x1 - x0) > 0.85 * width or (y1 - y0) > 0.85 * height)


def _height(box: Box) -> int:
    return box[3] - box[1]


def _merge_strokes(blobs: list[tuple[int, Box]], areas: NDArray[np.int64]) -> list[tuple[Box, list[int]]]:
    """Join the pieces of one digit: blobs stacked over each other, or a small piece close by.

    Digits are written side by side, so pieces that share most of their horizontal
    extent (a 5's detached flag, a broken 4) belong together.
    """
    groups: list[tuple[Box, list[int], int]] = [(box, [index], int(areas[index])) for index, box in blobs]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _belong_together(groups[i], groups[j]):
                    (a, ma, sa), (b, mb, sb) = groups[i], groups[j]
                    union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    groups[i] = (union, ma + mb, sa + sb)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [(box, members) for box, members, _ in groups]


def _belong_together(a: tuple[Box, list[int], int], b: tuple[Box, list[int], int]) -> bool:
    """Pieces of one digit share most of their width, or sit one above the other, or one is a small nearby bit."""
    (ba, _, sa), (bb, _, sb) = a, b
    narrower = min(ba[2] - ba[0], bb[2] - bb[0])
    overlap = min(ba[2], bb[2]) - max(ba[0], bb[0])
    if overlap >= 0.5 * narrower:
        return True
    shorter = min(_height(ba), _height(bb))
    stacked = min(ba[3], bb[3]) - max(ba[1], bb[1]) <= 0.5 * shorter
    if overlap >= 0.2 * narrower and stacked:
        return True
    tall = max(_height(ba), _height(bb))
    return -overlap < 0.15 * tall and min(sa, sb) < 0.2 * max(sa, sb)


def _normalize_stroke(region: Gray, mask: NDArray[np.bool_], fit: float, stroke_range: tuple[float, float]) -> Gray:
    """Bring the stroke width, as it will be after fitting, into MNIST's range.

    A fine pen shrunk into 20x20 becomes a faint hairline and a fat marker fills the loops
    of an 8; both are what broke the first model.
    """
    width = stroke_width(mask) * fit
    if width == 0:
        return region
    low, high = stroke_range
    if width < low:
        size = 1 + round((low - width) / fit)
        return _dilate(region, size, size) if size > 1 else region
    if width > high:
        size = 1 + round((width - high) / fit)
        return _erode(region, size, size) if size > 1 else region
    return region


def _place(region: Gray, fit: float, box: int, canvas: int) -> NDArray[np.float32]:
    """Fit into ``box`` keeping aspect (area filter down, bilinear up); centre of mass at the centre."""
    height, width = region.shape
    size = (max(1, min(box, round(width * fit))), max(1, min(box, round(height * fit))))
    small = _resize(region, size, cv2.INTER_AREA if fit < 1 else cv2.INTER_LINEAR)
    top = float(small.max())
    if top > 0:
        small = np.clip(small / top, 0.0, 1.0)
    out = np.zeros((canvas, canvas), dtype=np.float32)
    moments = cv2.moments(small)
    if moments["m00"] > 0:
        cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    else:
        cy, cx = small.shape[0] / 2, small.shape[1] / 2
    oy = int(np.clip(round(canvas / 2 - cy), 0, canvas - small.shape[0]))
    ox = int(np.clip(round(canvas / 2 - cx), 0, canvas - small.shape[1]))
    out[oy : oy + small.shape[0], ox : ox + small.shape[1]] = small
    return out
