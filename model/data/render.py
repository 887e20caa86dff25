"""Render MNIST digits as photos of handwriting on paper.

MNIST is clean white-on-black; users send phone photos. Training and the photo-like test
set draw digits the way real photos show them, then pass them through the shared
transform, so the network learns what the transform makes of real photos. Each photo has
a :class:`Look`, sampled by :meth:`Look.sample` in the proportions training uses; every
kind of failure seen on real photos is one of its fields, so a test can ask for exactly
that kind.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from model.data.truth import Overlap, overlap

Rng = np.random.Generator
RGB = NDArray[Any]

INKS = (
    ((15, 15, 20), (60, 60, 70)),  # black pen or marker
    ((20, 30, 120), (70, 90, 200)),  # blue ballpoint
    ((150, 20, 20), (210, 60, 60)),  # red pen
    ((20, 90, 40), (60, 140, 80)),  # green pen
    ((80, 80, 85), (130, 130, 135)),  # pencil
)


@dataclass(frozen=True)
class Look:
    """What kind of photo a render is."""

    ground: Literal["paper", "grey", "board", "screen"] = "paper"
    """Paper (white, cream, coloured, ruled); grey low-contrast paper with a soft pen; a dark
    board with chalk; a drawing app's flat canvas."""
    framing: Literal["page", "fill", "tight"] = "page"
    """The digits somewhere on a page; filling the frame; or cut tight to the ink, touching the edges."""
    tiny: bool = False
    """The photo is a 40-90 px crop, where a thin pen's strokes break up."""
    gaps: bool = False
    """Strokes don't touch: pen skips, an open loop, a 4 whose top is open."""
    shadow: Literal["none", "soft", "tinted"] = "soft"
    """Light falling off; a soft round shadow; or a hand's or phone's shadow, bluish and sharp-edged."""
    page_edge: bool = False
    """The paper does not fill the photo: a table shows along a side."""
    lines: Literal["plain", "ruled", "squared"] | None = None
    """Notebook lines on the paper; None draws them at random (ruled or squared on about half the pages)."""
    faint: bool = False
    """A pen pressed lightly or running dry: the ink a fifth to half as dark as the pen's own."""
    pressure: bool = False
    """Pressure changing along the strokes: part of a digit dark, part of it a few times fainter."""

    @classmethod
    def sample(cls, rng: Rng) -> Look:
        """The mix training and the photo-like set use."""
        ground = str(rng.choice(["paper", "grey", "board", "screen"], p=[0.76, 0.12, 0.06, 0.06]))
        framing = str(rng.choice(["page", "fill", "tight"], p=[0.72, 0.16, 0.12]))
        shadow = "none" if ground == "screen" else str(rng.choice(["none", "soft", "tinted"], p=[0.45, 0.38, 0.17]))
        return cls(
            ground=ground,  # type: ignore[arg-type]
            framing=framing,  # type: ignore[arg-type]
            tiny=bool(rng.random() < 0.1),
            gaps=bool(rng.random() < 0.15),
            shadow=shadow,  # type: ignore[arg-type]
            page_edge=bool(ground in ("paper", "grey") and framing == "page" and rng.random() < 0.12),
            faint=bool(ground != "screen" and rng.random() < 0.12),
            pressure=bool(ground != "screen" and rng.random() < 0.2),
        )


@dataclass(frozen=True)
class Rendered:
    """A render and where its strokes truly are: ``strokes`` is the pen's coverage (0-1) on the photo's pixels."""

    image: Image.Image
    strokes: NDArray[np.float32]

    def overlap(self, kept: NDArray[np.bool_]) -> Overlap:
        """How well ``kept`` (a mask of any size over the whole photo) matches the strokes."""
        return overlap(self.strokes, kept)


def photo_of(digits: Sequence[NDArray[np.uint8]], seed: int, index: int, look: Look | None = None) -> Image.Image:
    """The photo-like render of one sample; the same (seed, index) always gives the same photo."""
    return render(digits, np.random.default_rng((seed, index)), look).image


def render(digits: Sequence[NDArray[np.uint8]], rng: Rng, look: Look | None = None) -> Rendered:
    """Draw one or more 28x28 MNIST digits, left to right, as a photo of the given (or a sampled) look."""
    look = look or Look.sample(rng)
    width = int(rng.integers(160, 360))
    height = int(width * rng.uniform(0.65, 1.35))
    paper = ground(width, height, rng, look)
    alpha = _ink_layer(digits, width, height, rng, look)
    ink = ink_colour(rng, look)
    opacity = np.float32(rng.uniform(0.5, 0.85) if look.ground == "grey" else rng.uniform(0.75, 1.0))
    if look.faint:
        opacity *= np.float32(rng.uniform(0.2, 0.5))
    shade = alpha * opacity * (pressure(alpha.shape, rng) if look.pressure else np.float32(1))
    a = shade[..., None]
    photo = paper + a * (ink - paper)
    if look.ground == "screen" and rng.random() < 0.3:
        photo = 1 - photo  # a dark-mode canvas
    if look.page_edge:
        photo = _beyond_the_page(photo, alpha, rng)
    if look.ground != "screen":
        photo = lit(photo, rng, look)
        photo += (rng.standard_normal(photo.shape[:2], dtype=np.float32) * np.float32(rng.uniform(0, 0.025)))[..., None]
    pixels = (np.clip(photo, 0, 1) * 255).astype(np.uint8)
    blur = rng.uniform(1.2, 2.5) if look.ground == "grey" else rng.uniform(0.2, 1.3) if rng.random() < 0.6 else 0.0
    if look.ground != "screen" and blur:
        pixels = cv2.GaussianBlur(pixels, (0, 0), blur)
    image, strokes = Image.fromarray(pixels, mode="RGB"), Image.fromarray(alpha, mode="F")
    if look.framing == "tight":
        box = _ink_box(alpha, image.size, rng)
        image, strokes = image.crop(box), strokes.crop(box)
    if look.tiny and len(digits) == 1:  # a tiny crop is of one digit; a number that small is unreadable
        side = rng.uniform(40, 90)
        ratio = side / max(image.size)
        size = (max(8, round(image.width * ratio)), max(8, round(image.height * ratio)))
        image, strokes = image.resize(size, Image.Resampling.BOX), strokes.resize(size, Image.Resampling.BOX)
    if look.ground != "screen" and rng.random() < 0.7:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(35, 95)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return Rendered(image, np.asarray(strokes, dtype=np.float32))


def ground(width: int, height: int, rng: Rng, look: Look) -> RGB:
    """What the digits are written on: colour, texture, ruled or squared lines, a margin."""
    if look.ground == "screen":
        return np.full((height, width, 3), 1.0, dtype=np.float32)
    if look.ground == "board":
        base = rng.uniform(0.08, 0.28, 3) * np.array([0.8, 1.0, 0.85])
    elif look.ground == "grey":
        base = np.full(3, rng.uniform(0.5, 0.75)) * rng.uniform(0.95, 1.05, 3)
    else:
        base = _paper_colour(rng)
    texture = rng.standard_normal((height, width), dtype=np.float32) * np.float32(rng.uniform(0.0, 0.03))
    paper: RGB = np.clip(base.astype(np.float32)[None, None, :] + texture[..., None], 0, 1)
    lines = look.lines or ("plain" if rng.random() > 0.45 else "ruled")
    if look.ground == "board" or lines == "plain":
        return paper
    return _ruled(paper, rng, None if look.lines is None else lines == "squared")


def _paper_colour(rng: Rng) -> NDArray[np.float64]:
    kind = rng.random()
    if kind < 0.45:
        return np.full(3, rng.uniform(0.88, 1.0))
    if kind < 0.75:
        return np.array([rng.uniform(0.9, 1.0), rng.uniform(0.85, 0.95), rng.uniform(0.7, 0.88)])
    if kind < 0.9:
        return np.full(3, rng.uniform(0.62, 0.85))
    return rng.uniform(0.72, 1.0, 3)


def _ruled(paper: RGB, rng: Rng, squared: bool | None) -> RGB:
    """Ruled or squared (None: either) notebook lines, sometimes a red margin."""
    height, width = paper.shape[:2]
    lines = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(lines)
    step = int(rng.integers(14, 40))
    tilt = np.tan(np.radians(rng.uniform(-3, 3))) * width
    thickness = int(rng.integers(1, 3))
    offset = int(rng.integers(0, step))
    for y in range(offset - abs(int(tilt)), height + abs(int(tilt)), step):
        draw.line([(0, y), (width, y + tilt)], fill=255, width=thickness)
    if squared or (squared is None and rng.random() < 0.35):
        for x in range(int(rng.integers(0, step)), width, step):
            draw.line([(x, 0), (x - tilt * height / width, height)], fill=255, width=thickness)
    line_alpha = np.asarray(lines, dtype=np.float32)[..., None] / 255 * np.float32(rng.uniform(0.2, 0.55))
    line_colour = np.array([0.45, 0.6, 0.85] if rng.random() < 0.6 else [0.55, 0.55, 0.55], dtype=np.float32)
    paper = paper * (1 - line_alpha) + line_colour * line_alpha
    if rng.random() < 0.3:
        x = int(rng.integers(width // 10, width // 4))
        paper[:, x : x + 2] = paper[:, x : x + 2] * 0.4 + np.array([0.9, 0.3, 0.3], dtype=np.float32) * 0.6
    return paper


def _ink_layer(digits: Sequence[NDArray[np.uint8]], width: int, height: int, rng: Rng, look: Look) -> NDArray[np.float32]:
    """Stroke coverage in [0, 1]: digits scaled, re-stroked from hairline to marker, rotated, placed."""
    count = len(digits)
    if look.framing == "fill":
        most = min(1.0 * height, 1.0 * width / (count * 1.1))
        digit_h = rng.uniform(0.75, 1.0) * most
    else:
        most = min(0.75 * height, 0.9 * width / (count * 1.5))
        digit_h = rng.uniform(min(0.18 * height, most * 0.6), most)
    scale = digit_h / 20.0
    style = rng.random()
    if style < 0.25 or look.tiny:
        stroke = rng.uniform(-0.5, 0.0)
    elif style < 0.7:
        stroke = rng.uniform(0.0, 0.6)
    else:
        stroke = rng.uniform(0.6, 1.0)
    glyphs = [digit_glyph(d, scale, stroke, rng) for d in digits]
    if look.gaps:
        glyphs = [_break_strokes(g, rng) for g in glyphs]
    spacing = [rng.uniform(-0.15, 0.25) * digit_h for _ in glyphs]
    total_w = sum(g.shape[1] for g in glyphs) + sum(spacing[:-1])
    if count > 1 and total_w > 0.96 * width:  # the number's digits are its label: none may fall outside the photo
        shrink = 0.96 * width / total_w
        glyphs = [_scaled(g, shrink) for g in glyphs]
        spacing = [gap * shrink for gap in spacing]
        digit_h *= shrink
        total_w = sum(g.shape[1] for g in glyphs) + sum(spacing[:-1])
    tallest = max(g.shape[0] for g in glyphs)
    if look.framing == "fill":
        x, y = (width - total_w) / 2 + rng.uniform(-0.05, 0.05) * width, (height - tallest) / 2 + rng.uniform(-0.05, 0.05) * height
    else:
        x, y = rng.uniform(0, max(1.0, width - total_w)), rng.uniform(0, max(1.0, height - tallest))
    layer = np.zeros((height, width), dtype=np.float32)
    for glyph, gap in zip(glyphs, spacing, strict=True):
        gy = round(y + rng.uniform(-0.08, 0.08) * digit_h)
        stamp(layer, glyph, round(x), gy)
        x += glyph.shape[1] + gap
    return layer


def pressure(shape: tuple[int, ...], rng: Rng) -> NDArray[np.float32]:
    """A smooth field from full pressure down to a fifth to a half of it, changing over about a digit's width."""
    coarse = rng.random((3, 3)).astype(np.float32)
    field = cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    low = np.float32(rng.uniform(0.2, 0.5))
    span = max(float(field.max() - field.min()), 1e-3)
    return np.asarray(low + (1 - low) * np.clip((field - field.min()) / span, 0, 1), dtype=np.float32)


def _scaled(glyph: NDArray[np.float32], factor: float) -> NDArray[np.float32]:
    size = (max(1, round(glyph.shape[1] * factor)), max(1, round(glyph.shape[0] * factor)))
    return np.asarray(cv2.resize(glyph, size, interpolation=cv2.INTER_AREA), dtype=np.float32)


def stamp(layer: NDArray[np.float32], glyph: NDArray[np.float32], x: int, y: int) -> None:
    """Lay a glyph on the layer at (x, y); what falls outside the frame is cut off, as a photo's edge cuts it."""
    top, left = max(0, y), max(0, x)
    bottom, right = min(layer.shape[0], y + glyph.shape[0]), min(layer.shape[1], x + glyph.shape[1])
    if bottom <= top or right <= left:
        return
    part = glyph[top - y : bottom - y, left - x : right - x]
    layer[top:bottom, left:right] = np.maximum(layer[top:bottom, left:right], part)


def digit_glyph(digit: NDArray[np.uint8], scale: float, stroke: float, rng: Rng) -> NDArray[np.float32]:
    """One digit at photo size with a new stroke width; ``stroke`` is in MNIST pixels."""
    size = max(8, round(28 * scale))
    image = Image.fromarray(digit, mode="L").resize((size, size), Image.Resampling.BICUBIC)
    grow = round(abs(stroke) * scale)
    if grow >= 1:
        kernel = 2 * grow + 1 if stroke > 0 else 2 * (grow // 2) + 1
        if kernel > 1:
            square = np.ones((kernel, kernel), np.uint8)
            pixels = np.asarray(image)
            image = Image.fromarray(cv2.dilate(pixels, square) if stroke > 0 else cv2.erode(pixels, square))
    image = image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR, expand=True)
    coverage = np.asarray(image, dtype=np.float32) / 255
    sharp = rng.uniform(1.5, 4.0)
    return np.asarray(np.clip((coverage - 0.35) * sharp + 0.5, 0, 1) * (coverage > 0.05), dtype=np.float32)


def _break_strokes(glyph: NDArray[np.float32], rng: Rng) -> NDArray[np.float32]:
    """One or two gaps where the pen skipped: a disc about a stroke wide, centred on the stroke, cuts it across."""
    inked = glyph > 0.5
    if not inked.any():
        return glyph
    inside = cv2.distanceTransform(inked.astype(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.nonzero(inside >= 0.7 * float(np.quantile(inside[inked], 0.9)))
    yy, xx = np.mgrid[0 : glyph.shape[0], 0 : glyph.shape[1]]
    broken = glyph.copy()
    for _ in range(int(rng.integers(1, 3))):
        k = int(rng.integers(len(ys)))
        radius = rng.uniform(1.2, 1.6) * float(inside[ys[k], xs[k]]) + 1  # the distance to the stroke's edge
        broken[(yy - ys[k]) ** 2 + (xx - xs[k]) ** 2 <= radius**2] = 0.0
    return broken


def ink_colour(rng: Rng, look: Look) -> NDArray[np.float32]:
    if look.ground == "board":
        return np.full(3, rng.uniform(0.8, 1.0), dtype=np.float32)
    if look.ground == "screen":
        return np.full(3, rng.uniform(0.0, 0.2), dtype=np.float32)
    low, high = INKS[int(rng.integers(2 if look.ground == "grey" else len(INKS)))]  # on grey paper, a dark pen or marker
    return rng.uniform(np.array(low) / 255, np.array(high) / 255).astype(np.float32)


def _beyond_the_page(photo: RGB, alpha: NDArray[np.float32], rng: Rng) -> RGB:
    """A table beyond the paper's edge, along one side, the edge a little tilted; the writing stays on the paper."""
    height, width = photo.shape[:2]
    side = int(rng.integers(4))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = [(xx / width, yy / height), (1 - xx / width, yy / height), (yy / height, xx / width), (1 - yy / height, xx / width)][side]
    inked = u[alpha > 0.05]
    room = float(inked.min()) if inked.size else 1.0
    tilt = rng.uniform(-0.05, 0.05)
    depth = min(rng.uniform(0.04, 0.2), room - abs(tilt) - 0.02)
    if depth <= 0.01:
        return photo
    table = u < depth + tilt * (v - 0.5)
    colour = rng.uniform(0.05, 0.55) * rng.uniform(0.7, 1.0, 3)
    texture = rng.normal(0, rng.uniform(0.0, 0.04), (height, width, 1))
    return np.where(table[..., None], np.clip(colour + texture, 0, 1), photo)


def lit(photo: RGB, rng: Rng, look: Look) -> RGB:
    """Light falling off across the page, and the shadow the look asks for."""
    height, width = photo.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    across = np.float32(np.cos(angle)) * np.arange(width, dtype=np.float32) / width
    down = np.float32(np.sin(angle)) * np.arange(height, dtype=np.float32) / height
    ramp = down[:, None] + across[None, :] + np.float32(0.5)
    field = (1.0 - np.float32(rng.uniform(0, 0.35)) * np.clip(ramp, 0, 1))[..., None]
    if look.shadow == "soft":
        field = field * (1 - np.float32(rng.uniform(0.15, 0.45)) * _soft_shadow(width, height, rng))[..., None]
    elif look.shadow == "tinted":
        darkness = rng.uniform(0.15, 0.4)
        tint = 1 - darkness * np.array([1.0, 0.92, rng.uniform(0.55, 0.8)], dtype=np.float32)  # skylight fills a shadow with blue
        shade = _hard_shadow(width, height, rng)[..., None]
        field = field * (1 - shade + shade * tint)
    return np.asarray(photo * field, dtype=np.float32)


def _soft_shadow(width: int, height: int, rng: Rng) -> NDArray[np.float32]:
    """A round shadow with a wide soft edge; drawn and blurred at a quarter of the size, since it is smooth."""
    small_w, small_h = max(1, width // 4), max(1, height // 4)
    shadow = Image.new("L", (small_w, small_h), 0)
    cx, cy = rng.uniform(-0.3, 1.3) * small_w, rng.uniform(-0.3, 1.3) * small_h
    radius = rng.uniform(0.3, 0.8) * max(small_w, small_h)
    ImageDraw.Draw(shadow).ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.04, 0.12) * max(small_w, small_h)))
    return np.asarray(shadow.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32) / np.float32(255)


def _hard_shadow(width: int, height: int, rng: Rng) -> NDArray[np.float32]:
    """A phone's or hand's shadow: a polygon reaching in from a side, its edge a few pixels soft."""
    shadow = Image.new("L", (width, height), 0)
    corners = [(rng.uniform(-0.2, 1.2) * width, rng.uniform(-0.2, 1.2) * height) for _ in range(int(rng.integers(3, 6)))]
    side = int(rng.integers(4))
    anchor = [(0, 0), (width, 0), (width, height), (0, height)]
    corners += [anchor[side], anchor[(side + 1) % 4]]
    ImageDraw.Draw(shadow).polygon(_hull(corners), fill=255)
    shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.005, 0.03) * max(width, height)))
    return np.asarray(shadow, dtype=np.float32) / np.float32(255)


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points in order around their centre, so the polygon does not cross itself."""
    cx, cy = np.mean([p[0] for p in points]), np.mean([p[1] for p in points])
    return sorted(points, key=lambda p: float(np.arctan2(p[1] - cy, p[0] - cx)))


def _ink_box(alpha: NDArray[np.float32], size: tuple[int, int], rng: Rng) -> tuple[int, int, int, int]:
    """The ink's box, a margin of a few percent either side, sometimes just cutting into the strokes."""
    ys, xs = np.nonzero(alpha > 0.2)
    if len(ys) == 0:
        return (0, 0, *size)
    w, h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    left, top, right, bottom = (rng.uniform(-0.015, 0.06) for _ in range(4))
    box = (xs.min() - left * w, ys.min() - top * h, xs.max() + 1 + right * w, ys.max() + 1 + bottom * h)
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(size[0], round(box[2])), min(size[1], round(box[3]))
    return (x0, y0, max(x1, x0 + 8), max(y1, y0 + 8))


def on_canvas(digit: NDArray[np.uint8], size: float, rng: Rng, paper: bool = False, tight: bool = False, side: int = 400) -> Image.Image:
    """One MNIST digit whose height is ``size`` of a ``side`` x ``side`` frame, centred: dark on
    white, or (``paper``) on a photo of paper. ``tight`` cuts the frame to the digit's own box,
    as a scanned form's box does."""
    ys, xs = np.nonzero(digit > 0)
    glyph = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    if tight:
        glyph_h = int(rng.integers(28, 200))
        frame_w, frame_h = max(1, round(glyph.shape[1] * glyph_h / glyph.shape[0])), glyph_h
    else:
        glyph_h, frame_w, frame_h = max(1, round(size * side)), side, side
    glyph_w = min(frame_w, max(1, round(glyph.shape[1] * glyph_h / glyph.shape[0])))
    alpha = np.asarray(Image.fromarray(glyph).resize((glyph_w, glyph_h), Image.Resampling.BICUBIC), dtype=np.float32) / 255
    layer = np.zeros((frame_h, frame_w), dtype=np.float32)
    top, left = (frame_h - glyph_h) // 2, (frame_w - glyph_w) // 2
    layer[top : top + glyph_h, left : left + glyph_w] = alpha
    if not paper:
        return Image.fromarray(np.round(255 * (1 - layer)).astype(np.uint8), mode="L")
    look = replace(Look(), shadow="soft" if rng.random() < 0.4 else "none")
    a = layer[..., None]
    photo = ground(frame_w, frame_h, rng, look) * (1 - a) + ink_colour(rng, look) * a
    return Image.fromarray((np.clip(lit(photo, rng, look), 0, 1) * 255).astype(np.uint8), mode="RGB")
