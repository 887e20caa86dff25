"""Render MNIST digits as photos of handwriting on paper.

MNIST is clean white-on-black; users send phone photos. Training and the photo test set
draw digits onto paper with the things that broke the first model — off-white or
coloured paper, uneven light and shadows, notebook lines, blue or red pen, a hairline
pen or a fat marker, blur, noise, JPEG — and then pass them through the shared
transform, so the network learns what the transform makes of real photos.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

Rng = np.random.Generator

INKS = (
    ((15, 15, 20), (60, 60, 70)),  # black pen or marker
    ((20, 30, 120), (70, 90, 200)),  # blue ballpoint
    ((150, 20, 20), (210, 60, 60)),  # red pen
    ((20, 90, 40), (60, 140, 80)),  # green pen
    ((80, 80, 85), (130, 130, 135)),  # pencil
)


def photo_of(digits: Sequence[NDArray[np.uint8]], seed: int, index: int) -> Image.Image:
    """The photo-like render of one sample; the same (seed, index) always gives the same photo."""
    return render_photo(digits, np.random.default_rng((seed, index)))


def render_photo(digits: Sequence[NDArray[np.uint8]], rng: Rng) -> Image.Image:
    """Draw one or more 28x28 MNIST digits, left to right, as a phone photo of paper."""
    width = int(rng.integers(160, 360))
    height = int(width * rng.uniform(0.65, 1.35))
    dark_board = rng.random() < 0.08
    paper = _paper(width, height, rng, dark_board)
    alpha = _ink_layer(digits, width, height, rng)
    ink = _ink_colour(rng, dark_board)
    opacity = rng.uniform(0.75, 1.0)
    a = (alpha * opacity)[..., None]
    photo = paper * (1 - a) + ink * a
    photo = photo * _lighting(width, height, rng)[..., None]
    photo += rng.normal(0, rng.uniform(0, 0.025), photo.shape[:2]).astype(np.float32)[..., None]
    image = Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8), mode="RGB")
    if rng.random() < 0.6:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.3)))
    if rng.random() < 0.7:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(35, 95)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def _paper(width: int, height: int, rng: Rng, dark_board: bool) -> NDArray[Any]:
    """Paper colour and texture, with ruled or squared lines, margin and bleed-through."""
    if dark_board:
        base = rng.uniform(0.08, 0.28, 3) * np.array([0.8, 1.0, 0.85])
    else:
        kind = rng.random()
        if kind < 0.45:
            base = np.full(3, rng.uniform(0.88, 1.0))
        elif kind < 0.75:
            base = np.array([rng.uniform(0.9, 1.0), rng.uniform(0.85, 0.95), rng.uniform(0.7, 0.88)])
        elif kind < 0.9:
            base = np.full(3, rng.uniform(0.62, 0.85))
        else:
            base = rng.uniform(0.72, 1.0, 3)
    texture = rng.normal(0, rng.uniform(0.0, 0.03), (height, width)).astype(np.float32)
    paper: NDArray[Any] = np.clip(base.astype(np.float32)[None, None, :] + texture[..., None], 0, 1)
    if dark_board or rng.random() > 0.45:
        return paper
    lines = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(lines)
    step = int(rng.integers(14, 40))
    tilt = np.tan(np.radians(rng.uniform(-3, 3))) * width
    thickness = int(rng.integers(1, 3))
    offset = int(rng.integers(0, step))
    for y in range(offset - abs(int(tilt)), height + abs(int(tilt)), step):
        draw.line([(0, y), (width, y + tilt)], fill=255, width=thickness)
    if rng.random() < 0.35:
        for x in range(int(rng.integers(0, step)), width, step):
            draw.line([(x, 0), (x - tilt * height / width, height)], fill=255, width=thickness)
    line_alpha = np.asarray(lines, dtype=np.float32)[..., None] / 255 * np.float32(rng.uniform(0.2, 0.55))
    line_colour = np.array([0.45, 0.6, 0.85]) if rng.random() < 0.6 else np.array([0.55, 0.55, 0.55])
    paper = paper * (1 - line_alpha) + line_colour * line_alpha
    if rng.random() < 0.3:
        x = int(rng.integers(width // 10, width // 4))
        paper[:, x : x + 2] = paper[:, x : x + 2] * 0.4 + np.array([0.9, 0.3, 0.3]) * 0.6
    return paper


def _ink_layer(digits: Sequence[NDArray[np.uint8]], width: int, height: int, rng: Rng) -> NDArray[np.float32]:
    """Stroke coverage in [0, 1]: digits scaled, re-stroked from hairline to marker, rotated, placed."""
    count = len(digits)
    most = min(0.75 * height, 0.9 * width / (count * 1.5))
    digit_h = rng.uniform(min(0.18 * height, most * 0.6), most)
    scale = digit_h / 20.0
    style = rng.random()
    if style < 0.25:
        stroke = rng.uniform(-0.5, 0.0)
    elif style < 0.7:
        stroke = rng.uniform(0.0, 0.6)
    else:
        stroke = rng.uniform(0.6, 1.0)
    glyphs = [_glyph(d, scale, stroke, rng) for d in digits]
    spacing = [rng.uniform(-0.15, 0.25) * digit_h for _ in glyphs]
    total_w = sum(g.shape[1] for g in glyphs) + sum(spacing[:-1])
    tallest = max(g.shape[0] for g in glyphs)
    x = rng.uniform(0, max(1.0, width - total_w))
    y = rng.uniform(0, max(1.0, height - tallest))
    layer = np.zeros((height, width), dtype=np.float32)
    for glyph, gap in zip(glyphs, spacing, strict=True):
        gy = int(np.clip(y + rng.uniform(-0.08, 0.08) * digit_h, 0, max(0, height - glyph.shape[0])))
        gx = int(np.clip(x, 0, max(0, width - glyph.shape[1])))
        h, w = min(glyph.shape[0], height - gy), min(glyph.shape[1], width - gx)
        layer[gy : gy + h, gx : gx + w] = np.maximum(layer[gy : gy + h, gx : gx + w], glyph[:h, :w])
        x += glyph.shape[1] + gap
    return layer


def _glyph(digit: NDArray[np.uint8], scale: float, stroke: float, rng: Rng) -> NDArray[np.float32]:
    """One digit at photo size with a new stroke width; ``stroke`` is in MNIST pixels."""
    size = max(8, round(28 * scale))
    image = Image.fromarray(digit, mode="L").resize((size, size), Image.Resampling.BICUBIC)
    grow = round(abs(stroke) * scale)
    if grow >= 1:
        kernel = 2 * grow + 1 if stroke > 0 else 2 * (grow // 2) + 1
        if kernel > 1:
            image = image.filter(ImageFilter.MaxFilter(kernel) if stroke > 0 else ImageFilter.MinFilter(kernel))
    image = image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR, expand=True)
    coverage = np.asarray(image, dtype=np.float32) / 255
    sharp = rng.uniform(1.5, 4.0)
    return np.asarray(np.clip((coverage - 0.35) * sharp + 0.5, 0, 1) * (coverage > 0.05), dtype=np.float32)


def _ink_colour(rng: Rng, dark_board: bool) -> NDArray[np.float64]:
    if dark_board:
        return np.full(3, rng.uniform(0.8, 1.0))
    low, high = INKS[int(rng.integers(len(INKS)))]
    return rng.uniform(np.array(low) / 255, np.array(high) / 255)


def _lighting(width: int, height: int, rng: Rng) -> NDArray[np.float32]:
    """Brightness field: a gradient across the page and sometimes a soft shadow."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height) + 0.5
    field = 1.0 - rng.uniform(0, 0.35) * np.clip(ramp, 0, 1)
    if rng.random() < 0.4:
        shadow = Image.new("L", (width, height), 0)
        draw = ImageDraw.Draw(shadow)
        cx, cy = rng.uniform(-0.3, 1.3) * width, rng.uniform(-0.3, 1.3) * height
        radius = rng.uniform(0.3, 0.8) * max(width, height)
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
        shadow = shadow.filter(ImageFilter.GaussianBlur(rng.uniform(0.04, 0.12) * max(width, height)))
        field = field * (1 - np.float32(rng.uniform(0.15, 0.45)) * np.asarray(shadow, dtype=np.float32) / 255)
    return np.asarray(field, dtype=np.float32)


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
    a = layer[..., None]
    photo = _paper(frame_w, frame_h, rng, dark_board=False) * (1 - a) + _ink_colour(rng, dark_board=False) * a
    photo = photo * _lighting(frame_w, frame_h, rng)[..., None]
    return Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8), mode="RGB")
