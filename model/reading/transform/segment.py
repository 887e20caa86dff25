"""Stage 4, segmentation: which inked pixels form which digit, left to right.

Threshold, connected components, then what is not a digit's stroke is dropped (specks,
page edges, soft shadow blobs, line remnants, textures) and the pieces of one digit are
merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.lines import Cleared
from model.reading.transform.ops import Box, Gray, Mask, dilate, height, label, quantiles, union
from model.reading.transform.reasons import NoDigit
from model.reading.transform.stage import Stage


@dataclass(frozen=True)
class SegmentParams:
    peak_pixels: int = bounded(30, 1, 1000000)
    """The ink's peak is the strength of its this-many-th strongest pixel: a few bright specks don't set it."""
    min_contrast: float = bounded(0.07, 0.001, 1.0)
    """A peak under this is a blank page: a pen pressed lightly, in a dim small photo, is a few times more."""
    absolute_threshold: float = bounded(0.05, 0.001, 1.0)
    relative_threshold: float = bounded(0.4, 0.001, 1.0)
    """A pixel is surely ink above both the absolute level and this fraction of the peak ..."""
    weak_threshold: float = bounded(0.2, 0.001, 1.0)
    """... and ink too above this fraction of the peak where it touches sure ink (hysteresis): a stroke
    pressed lightly, or thinned by blur, is still the stroke it continues."""
    weak_noise: float = bounded(4.5, 0.0, 100.0)
    noise_quantile: float = bounded(0.75, 0.5, 0.99)
    """Weak ink's floor: ``weak_noise`` times the ink map at this quantile, at most the absolute level. Most of
    a photo is paper, so its upper quartile is the paper's own grain and JPEG noise (about 0.67 of its spread:
    the floor is about three spreads). Where the absolute level sets the sure threshold (a faint pen), weak
    ink still continues it on clean paper, and a noisy photo keeps its noise out."""
    sample_step: int = bounded(4, 1, 16)
    """The noise is measured on every this-many-th pixel each way: as well as on all of them, and faster."""
    paper_level: float = bounded(0.5, 0.0, 1.0)
    """Ink under this fraction of the threshold is paper (textured paper is not pure 0) ..."""
    min_paper_fraction: float = bounded(0.45, 0.001, 1.0)
    """... and writing on paper leaves at least this fraction of the image as paper ..."""
    max_ink_fraction: float = bounded(0.4, 0.001, 1.0)
    """... and at most this fraction as ink."""
    speck_fraction: float = bounded(0.03, 0.0, 1.0)
    """Blobs smaller than this fraction of the largest are specks."""
    min_speck: int = bounded(4, 1, 1000000)
    page_edge: float = bounded(0.85, 0.001, 1.0)
    edge_band: float = bounded(0.25, 0.0, 1.0)
    edge_share: float = bounded(0.8, 0.0, 1.0)
    edge_contact: float = bounded(0.5, 0.0, 1.0)
    """A blob spanning more than ``page_edge`` of a side, with ``edge_share`` of its pixels within
    ``edge_band`` of that side and touching the frame along ``edge_contact`` of it, runs along
    it: a page or table edge, not a digit that fills the frame."""
    edge_rim: float = bounded(0.01, 0.0, 1.0)
    """A page edge's soft rim, this fraction of the long side wide, goes with it: the edge's blur is
    fainter than the edge, and once the edge is gone it would stand out as a line along it."""
    faint: float = bounded(0.6, 0.001, 1.0)
    """A blob whose strongest pixel is under this fraction of the peak is a smudge, not the pen."""
    max_on_lines: float = bounded(0.6, 0.0, 1.0)
    """A blob mostly on where a notebook line ran is what is left of the line."""
    max_pieces: int = bounded(12, 1, 1000)
    """A group of more pieces is a texture (grass, cloth), not a few pen strokes."""
    max_blobs_per_digit: int = bounded(6, 1, 1000)
    min_height: float = bounded(0.3, 0.0, 1.0)
    """Groups shorter than this fraction of the tallest are dots and dashes, not digits."""
    max_digits: int = bounded(12, 1, 100)
    line_across: float = bounded(0.15, 0.0, 1.0)
    """A lone shape that runs from one side of the frame to the opposite one and is narrower than this
    fraction of the other side is a line across the photo (a margin, a fold, a page's or a table's edge),
    not a 1: a written 1 ends where the pen lifted, inside the photo. A 1 cut tight fills its frame's width."""
    overlap: float = bounded(0.5, 0.001, 1.0)
    """Pieces sharing this fraction of the narrower one's width belong to one digit ..."""
    stacked_overlap: float = bounded(0.2, 0.0, 1.0)
    stacked: float = bounded(0.5, 0.0, 1.0)
    """... or sharing this much of it while overlapping vertically less than ``stacked`` of the shorter ..."""
    corner: float = bounded(0.05, 0.0, 1.0)
    """... or pieces one above the other whose boxes meet within this fraction of the taller's height, corner to corner ..."""
    near: float = bounded(0.3, 0.0, 10.0)
    small_piece: float = bounded(0.2, 0.0, 1.0)
    """... or a piece under ``small_piece`` of the other's area within ``near`` of the taller's height."""
    whole_ink: tuple[float, float] = bounded((0.03, 0.8), 0.0, 1.0)
    """The whole frame is read as one digit when its ink (Otsu's split) covers a fraction within this range ..."""
    whole_pieces: int = bounded(6, 1, 1000)
    """... in at most this many pieces that are not specks."""
    join_gap: float = bounded(0.15, 0.0, 10.0)
    """Neighbours closer than this fraction of the taller one's height may be one digit in pieces
    (an open 4, a gapped 8): both readings go to the network, which decides."""

    def __post_init__(self) -> None:
        check_bounds(self)
        if not self.whole_ink[0] < self.whole_ink[1]:
            raise ValueError(f"need a rising whole_ink range: {self}")


@dataclass(frozen=True)
class Group:
    """One digit's pieces: the component labels and their joint box."""

    box: Box
    members: tuple[int, ...]

    def join(self, other: Group) -> Group:
        return Group(union(self.box, other.box), tuple(sorted(self.members + other.members)))


@dataclass(frozen=True)
class Found:
    labels: NDArray[np.int32]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class _Blobs:
    peak: float
    threshold: float
    mask: Mask
    labels: NDArray[np.int32]
    stats: NDArray[np.int32]


class Segment(Stage[SegmentParams]):
    """Stage 4: the cleared ink to digits as groups of pixels, left to right, or the reason there are none."""

    def __call__(self, cleared: Cleared) -> Found | NoDigit:
        """Label ink blobs and group them into digits, left to right, or say why there is no digit."""
        p, ink, on_lines = self.params, cleared.ink, cleared.on_lines
        blobs = _threshold(ink, on_lines, p)
        edges = [index for index in _large(blobs, p) if _is_page_edge(blobs, index, ink.shape, p)]
        beyond = _beyond_page(blobs.labels, edges, p)
        if edges:  # a table beyond the page sets neither the ink's peak nor its share
            ink = np.where(beyond, np.float32(0), ink)
            blobs = _threshold(ink, on_lines, p)
        if blobs.peak < p.min_contrast:
            return NoDigit.BLANK
        if (
            np.count_nonzero(ink < p.paper_level * blobs.threshold) < p.min_paper_fraction * ink.size
            or np.count_nonzero(blobs.mask) > p.max_ink_fraction * ink.size
        ):
            return NoDigit.NOT_PAPER
        strokes: list[tuple[int, Box]] = []
        for index in _large(blobs, p):
            region = _region(blobs.stats[index])
            pen = _looks_like_ink(ink[region], blobs.labels[region] == index, on_lines[region], blobs.peak, p)
            if pen and not _is_page_edge(blobs, index, ink.shape, p):
                strokes.append((index, _box(blobs.stats[index])))
        if not strokes:
            return NoDigit.NO_SHAPES
        if len(strokes) > p.max_blobs_per_digit * p.max_digits:
            return NoDigit.TOO_MANY
        areas = blobs.stats[:, cv2.CC_STAT_AREA].astype(np.int64)
        groups = [group for group in _merge_strokes(strokes, areas, p) if len(group.members) <= p.max_pieces]
        if not groups:
            return NoDigit.NOT_HANDWRITING
        tallest = max(height(group.box) for group in groups)
        kept = [group for group in groups if height(group.box) >= p.min_height * tallest]
        if len(kept) == 1 and _across(kept[0], blobs, beyond, p):
            return NoDigit.LINE_ACROSS
        kept.sort(key=lambda group: (group.box[0] + group.box[2]) / 2)
        return Found(blobs.labels, tuple(kept))

    def whole(self, gray: Gray) -> tuple[Gray, Found] | None:
        """The whole frame of a dark-ink image as one digit, for ink that touches the frame or
        no paper found (see :func:`_whole_frame`)."""
        return _whole_frame(gray, self.params)


def _threshold(ink: Gray, on_lines: Mask, p: SegmentParams) -> _Blobs:
    """The ink's peak (its ``peak_pixels``-th strongest pixel), the threshold it sets, and the blobs above it.

    Weak ink counts only where it continues sure ink, and never where a notebook line ran: what
    is left of a line would otherwise join every stroke it touches into one shape."""
    inked = ink[ink > p.absolute_threshold]
    keep = min(p.peak_pixels, inked.size)
    peak = float(np.partition(inked, inked.size - keep)[inked.size - keep]) if keep else 0.0
    threshold = max(p.absolute_threshold, p.relative_threshold * peak)
    step = p.sample_step
    noise = quantiles(ink[::step, ::step].ravel(), (p.noise_quantile,))[0]
    weak = max(min(p.weak_threshold, p.relative_threshold) * peak, min(p.absolute_threshold, p.weak_noise * noise))
    _, labels, stats = label((ink > threshold) | ((ink > weak) & ~on_lines))
    sure = np.zeros(len(stats), dtype=bool)
    sure[labels[ink > threshold]] = True  # the weak blobs that hold sure ink; the others are never picked (no area)
    sure[0] = False
    stats[~sure, cv2.CC_STAT_AREA] = 0
    return _Blobs(peak, threshold, sure[labels], labels, stats)


def _large(blobs: _Blobs, p: SegmentParams) -> list[int]:
    """Blobs that are not specks: at least ``speck_fraction`` of the largest."""
    areas = blobs.stats[:, cv2.CC_STAT_AREA].copy()
    areas[0] = 0
    if len(areas) == 1:
        return []
    min_area = max(p.min_speck, int(p.speck_fraction * int(areas.max())))
    return [int(i) for i in np.flatnonzero(areas >= min_area)]


def _box(stat: NDArray[np.int32]) -> Box:
    x, y, w, h = (int(v) for v in stat[:4])
    return (x, y, x + w, y + h)


def _region(stat: NDArray[np.int32]) -> tuple[slice, slice]:
    x, y, w, h = (int(v) for v in stat[:4])
    return slice(y, y + h), slice(x, x + w)


def _looks_like_ink(ink: Gray, blob: Mask, on_lines: Mask, peak: float, p: SegmentParams) -> bool:
    """Strokes of one pen: about as strong as the strongest, and not what is left of a notebook line.

    A smudge or a shadow's remnant is fainter than the pen; a piece of a ruled line that
    survived removal lies along the line it came from. Sharpness is no test: a blurred
    photo's strokes are as soft as a shadow's edge.
    """
    if float(ink[blob].max()) < p.faint * peak:
        return False
    return float(on_lines[blob].mean()) <= p.max_on_lines


def _is_page_edge(blobs: _Blobs, index: int, shape: tuple[int, ...], p: SegmentParams) -> bool:
    """Does the blob run along a side of the image, like the edge of a page or a table beyond it?

    Such a blob lies along the whole side, within a band near it, and touches the frame
    along most of that side. A digit that fills the frame or is cut by it touches the
    frame only where its strokes reach it, and crosses the middle.
    """
    x0, y0, x1, y1 = _box(blobs.stats[index])
    blob = blobs.labels[_region(blobs.stats[index])] == index
    rows, cols = shape
    area = np.count_nonzero(blob)
    band_x, band_y = round(p.edge_band * cols), round(p.edge_band * rows)
    sides = []  # (touches that side, the blob's pixels on it, its pixels within the band, the side's length)
    if x1 - x0 > p.page_edge * cols:
        sides.append((y0 == 0, blob[0], blob[: max(0, band_y - y0)], cols))
        sides.append((y1 == rows, blob[-1], blob[max(0, rows - band_y - y0) :], cols))
    if y1 - y0 > p.page_edge * rows:
        sides.append((x0 == 0, blob[:, 0], blob[:, : max(0, band_x - x0)], rows))
        sides.append((x1 == cols, blob[:, -1], blob[:, max(0, cols - band_x - x0) :], rows))
    return any(
        touches and np.count_nonzero(rim) >= p.edge_contact * length and np.count_nonzero(band) >= p.edge_share * area
        for touches, rim, band, length in sides
    )


def _beyond_page(labels: NDArray[np.int32], edges: list[int], p: SegmentParams) -> Mask:
    """The page edges' pixels with their soft rims (``edge_rim``): where the page ends."""
    if not edges:
        return np.zeros(labels.shape, dtype=bool)
    beyond = np.isin(labels, edges)
    rim = 2 * round(p.edge_rim * max(labels.shape)) + 1
    return dilate(beyond.astype(np.float32), rim, rim) > 0 if rim > 1 else beyond


def _across(group: Group, blobs: _Blobs, beyond: Mask, p: SegmentParams) -> bool:
    """Is the shape cut at both ends, one way, by the frame or where the page ends (``beyond``), and narrow
    across (``line_across``)? A margin ruled down a page runs on until the table beyond the page's edge.

    Its width is its main pieces' (each at least ``small_piece`` of the largest), so a speck
    joined to a line does not widen it, while a digit's parts all count."""
    x0, y0, x1, y1 = group.box
    rows, cols = blobs.labels.shape
    stats = blobs.stats[list(group.members)]
    areas = stats[:, cv2.CC_STAT_AREA]
    main = stats[areas >= p.small_piece * areas.max()]
    left, right = main[:, cv2.CC_STAT_LEFT], main[:, cv2.CC_STAT_LEFT] + main[:, cv2.CC_STAT_WIDTH]
    top, bottom = main[:, cv2.CC_STAT_TOP], main[:, cv2.CC_STAT_TOP] + main[:, cv2.CC_STAT_HEIGHT]
    if _ends_cut(y0, y1, rows, beyond[:, x0:x1]) and int(right.max() - left.min()) < p.line_across * cols:
        return True
    return _ends_cut(x0, x1, cols, beyond[y0:y1].T) and int(bottom.max() - top.min()) < p.line_across * rows


def _ends_cut(start: int, end: int, length: int, beyond: Mask) -> bool:
    """Does a shape from ``start`` to ``end`` along an axis of ``length`` reach the frame, or the page's
    end (``beyond``: rows along that axis), at both ends?"""

    def cut(at: int) -> bool:
        return at in (0, length) or bool(beyond[max(0, at - 1) : at + 1].any())

    return cut(start) and cut(end)


def _merge_strokes(blobs: list[tuple[int, Box]], areas: NDArray[np.int64], p: SegmentParams) -> list[Group]:
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
                if _belong_together(groups[i], groups[j], p):
                    (a, ma, sa), (b, mb, sb) = groups[i], groups[j]
                    groups[i] = (union(a, b), ma + mb, sa + sb)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [Group(box, tuple(members)) for box, members, _ in groups]


def _belong_together(a: tuple[Box, list[int], int], b: tuple[Box, list[int], int], p: SegmentParams) -> bool:
    """Pieces of one digit share most of their width, or sit one above the other (sharing some width,
    or meeting corner to corner: a slanted stroke cut where a notebook line crossed it), or one is a
    small nearby bit. Digits of a number sit side by side, level with each other: never stacked."""
    (ba, _, sa), (bb, _, sb) = a, b
    narrower = min(ba[2] - ba[0], bb[2] - bb[0])
    overlap = min(ba[2], bb[2]) - max(ba[0], bb[0])
    if overlap >= p.overlap * narrower:
        return True
    shorter = min(height(ba), height(bb))
    stacked = min(ba[3], bb[3]) - max(ba[1], bb[1]) <= p.stacked * shorter
    if overlap >= p.stacked_overlap * narrower and stacked:
        return True
    tall = max(height(ba), height(bb))
    vertical_gap = max(ba[1], bb[1]) - min(ba[3], bb[3])
    if stacked and -overlap <= p.corner * tall and vertical_gap <= p.corner * tall:
        return True  # one stroke cut where a line crossed it: its pieces meet corner to corner
    return -overlap < p.near * tall and min(sa, sb) < p.small_piece * max(sa, sb)


def joinable(a: Group, b: Group, params: SegmentParams) -> bool:
    """Left-to-right neighbours close enough to be the pieces of one digit."""
    return b.box[0] - a.box[2] <= params.join_gap * max(height(a.box), height(b.box))


def touches_frame(group: Group, shape: tuple[int, ...]) -> bool:
    x0, y0, x1, y1 = group.box
    return x0 == 0 or y0 == 0 or x1 == shape[1] or y1 == shape[0]


def _whole_frame(gray: Gray, params: SegmentParams) -> tuple[Gray, Found] | None:
    """The whole frame as one digit: dark ink split from its ground by Otsu's threshold.

    For a digit that fills the frame or is cut by it (a photo cropped to the digit, a
    scanned box, a fat marker close up), the page-level rules find no paper to stand
    on; a global split needs none. What runs along a side of the frame is the table
    beyond the page here too (:func:`_is_page_edge`). None when the split looks like no
    single digit, or a line across the frame (:func:`_across`).
    """
    levels = np.round(gray * 255).astype(np.uint8)
    threshold, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = levels <= threshold
    share = np.count_nonzero(mask) / mask.size
    if not params.whole_ink[0] <= share <= params.whole_ink[1]:
        return None
    paper, ink = float(gray[~mask].mean()), float(gray[mask].mean())
    if paper - ink < params.min_contrast * paper:  # the ink's strength against its paper, as in the ink map
        return None
    _, labels, stats = label(mask)
    blobs = _Blobs(0.0, float(threshold), mask, labels, stats)
    members = np.array([i for i in _large(blobs, params) if not _is_page_edge(blobs, i, mask.shape, params)], dtype=np.int64)
    if not 0 < len(members) <= params.whole_pieces:
        return None
    x0, y0 = stats[members, 0].min(), stats[members, 1].min()
    x1, y1 = (stats[members, 0] + stats[members, 2]).max(), (stats[members, 1] + stats[members, 3]).max()
    strength = np.clip((paper - gray) / (paper - ink), 0.0, 1.0).astype(np.float32)
    group = Group((int(x0), int(y0), int(x1), int(y1)), tuple(int(m) for m in members))
    if _across(group, blobs, np.zeros(mask.shape, dtype=bool), params):  # the frame's split has dropped no page edge
        return None
    return strength, Found(labels, (group,))
