"""Everyday pictures with no digit in them: what people send a digit bot by mistake or to try it.

Screenshots and printed pages of text, clock faces without numerals, textures (bricks, wood,
cloth, grass, tiles) and objects (an animal's silhouette, a ball, a mug, a face, the moon), each a
whole frame, photographed or sent as it is. The non-digit drawings of :mod:`model.data.shapes`
are single MNIST-sized shapes on paper; these fill the photo with things that are not written on
paper at all, where a text's letters, a window's border or a clock's hand can pass for a digit.
Text is letters only: a picture with printed digits in it would have a right answer.
"""

from __future__ import annotations

import io
import math
import string
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Rng = np.random.Generator
RGB = tuple[int, int, int]
Size = tuple[int, int]

FRAMES: tuple[Size, ...] = ((640, 480), (480, 640), (800, 600), (600, 800), (720, 720), (1280, 720), (720, 1280))


def scene(rng: Rng) -> tuple[str, Image.Image | bytes]:
    """One picture and its kind: a screenshot is sent as it is (PNG) half the time, every other kind photographed (JPEG)."""
    name, draw = KINDS[int(rng.integers(len(KINDS)))]
    size = FRAMES[int(rng.integers(len(FRAMES)))]
    image = draw(size, rng)
    if name == "screenshot" and rng.random() < 0.5:
        return name, image
    return name, photographed(image, rng)


def scenes(count: int, seed: int) -> Iterator[tuple[str, Image.Image | bytes]]:
    """``count`` pictures; picture ``i`` depends only on ``(seed, i)``."""
    for i in range(count):
        yield scene(np.random.default_rng((seed, 13, i)))


def photographed(image: Image.Image, rng: Rng) -> bytes:
    """As a phone sees it: uneven light, a little blur and grain, JPEG."""
    width, height = image.size
    pixels = np.asarray(image, dtype=np.float32) / 255
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (xs / width - 0.5) * math.cos(angle) + (ys / height - 0.5) * math.sin(angle)
    light = 1 + rng.uniform(0.0, 0.5) * ramp - rng.uniform(0.0, 0.25) * ((xs / width - 0.5) ** 2 + (ys / height - 0.5) ** 2)
    pixels = pixels * light[..., None] + rng.normal(0, rng.uniform(0.005, 0.03), pixels.shape).astype(np.float32)
    photo = Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6)))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=int(rng.integers(60, 95)))
    return out.getvalue()


def _colour(rng: Rng, low: int = 0, high: int = 256) -> RGB:
    r, g, b = (int(v) for v in rng.integers(low, high, 3))
    return (r, g, b)


def _font(rng: Rng, low: int, high: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own scalable font: the same glyphs on every machine."""
    return ImageFont.load_default(int(rng.integers(low, high)))


def _words(rng: Rng, count: int) -> str:
    return " ".join("".join(rng.choice(list(string.ascii_letters), int(rng.integers(1, 10)))) for _ in range(count))


def _text_block(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], ink: RGB, rng: Rng, sizes: tuple[int, int]) -> None:
    """Lines of words filling ``box``, some shorter, as paragraphs are."""
    x0, y0, x1, y1 = box
    font = _font(rng, *sizes)
    step = int(font.size * rng.uniform(1.3, 1.8)) if isinstance(font, ImageFont.FreeTypeFont) else 14
    for y in range(y0, y1 - step, step):
        line = _words(rng, int(rng.integers(2, 14)))
        while line and draw.textlength(line, font=font) > x1 - x0:
            line = line.rsplit(" ", 1)[0] if " " in line else ""
        draw.text((x0, y), line, fill=ink, font=font)


def _screenshot(size: Size, rng: Rng) -> Image.Image:
    """An app's window: a bar across the top, icons, rules and boxes, paragraphs; light or dark."""
    dark = rng.random() < 0.3
    paper, ink = ((30, 30, 34), (220, 220, 220)) if dark else ((250, 250, 250), (20, 20, 25))
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    width, height = size
    bar = int(height * rng.uniform(0.05, 0.12))
    draw.rectangle((0, 0, width, bar), fill=_colour(rng, 40, 230))
    for k in range(int(rng.integers(0, 5))):
        x = int(width * 0.04) + k * int(bar * 1.2)
        draw.ellipse((x, bar * 0.25, x + bar * 0.5, bar * 0.75), fill=_colour(rng, 100, 256))
    if rng.random() < 0.6:  # a window's or a card's border inside the screen
        margin = int(width * rng.uniform(0.02, 0.08))
        draw.rectangle(
            (margin, bar + margin, width - margin, height - margin), outline=_colour(rng, 80, 200), width=int(rng.integers(1, 4))
        )
    top = bar + int(height * 0.05)
    while top < height * 0.9:
        block = int(height * rng.uniform(0.1, 0.3))
        _text_block(draw, (int(width * 0.08), top, int(width * 0.92), min(top + block, int(height * 0.95))), ink, rng, (10, 26))
        top += block
        if rng.random() < 0.5:  # a rule between sections
            draw.line((int(width * 0.06), top, int(width * 0.94), top), fill=_colour(rng, 120, 220), width=int(rng.integers(1, 3)))
        top += int(height * 0.03)
    return image


def _printed_page(size: Size, rng: Rng) -> Image.Image:
    """A printed page or a book's: a heading and paragraphs on off-white paper."""
    image = Image.new("RGB", size, _colour(rng, 215, 250))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.text((int(width * 0.1), int(height * 0.06)), _words(rng, int(rng.integers(1, 4))), fill=(15, 15, 15), font=_font(rng, 24, 44))
    _text_block(draw, (int(width * 0.1), int(height * 0.18), int(width * 0.9), int(height * 0.95)), (25, 25, 30), rng, (12, 22))
    return image


def _clock(size: Size, rng: Rng) -> Image.Image:
    """A clock face without numerals: ticks, two or three hands, a rim, on a wall."""
    image = Image.new("RGB", size, _colour(rng, 60, 240))
    draw = ImageDraw.Draw(image)
    width, height = size
    radius = min(width, height) * rng.uniform(0.3, 0.48)
    cx, cy = width / 2 + rng.uniform(-0.05, 0.05) * width, height / 2 + rng.uniform(-0.05, 0.05) * height
    face, ink = ((245, 245, 240), (20, 20, 20)) if rng.random() < 0.7 else ((25, 25, 30), (235, 235, 235))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=face, outline=_colour(rng, 0, 160), width=int(radius * 0.06))

    def at(a: float, f: float) -> tuple[float, float]:
        return cx + radius * f * math.cos(a), cy + radius * f * math.sin(a)

    ticks = 60 if rng.random() < 0.5 else 12
    for k in range(ticks):
        a, hour = k * 2 * math.pi / ticks, k % (ticks // 12) == 0
        draw.line((at(a, 0.78 if hour else 0.86), at(a, 0.9)), fill=ink, width=max(1, int(radius * (0.03 if hour else 0.01))))
    for length, thickness, colour in ((0.5, 0.05, ink), (0.75, 0.035, ink), (0.8, 0.01, (200, 30, 30))):
        draw.line(((cx, cy), at(rng.uniform(0, 2 * math.pi), length)), fill=colour, width=max(1, int(radius * thickness)))
    draw.ellipse((cx - radius * 0.04, cy - radius * 0.04, cx + radius * 0.04, cy + radius * 0.04), fill=ink)
    return image


def _texture(size: Size, rng: Rng) -> Image.Image:
    """A surface filling the frame: bricks, wood grain, woven cloth, grass or tiles."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    kind = int(rng.integers(5))
    if kind == 0:  # bricks in offset rows, mortar between
        row, brick = rng.uniform(30, 70), rng.uniform(80, 160)
        shift = (np.floor(ys / row) % 2) * brick / 2
        mortar = ((ys % row) < row * 0.12) | (((xs + shift) % brick) < brick * 0.06)
        base = np.where(mortar[..., None], np.array([0.75, 0.73, 0.7]), np.array([0.62, 0.3, 0.22]))
    elif kind == 1:  # wood grain: wavy bands
        bands = np.sin(xs * rng.uniform(0.05, 0.15) + 8 * np.sin(ys * rng.uniform(0.005, 0.02)))
        base = np.array([0.55, 0.38, 0.22]) + 0.08 * bands[..., None]
    elif kind == 2:  # woven cloth
        period = rng.uniform(3, 8)
        weave = np.sin(xs * 2 * math.pi / period) * np.sin(ys * 2 * math.pi / period)
        base = np.array(_colour(rng, 40, 220)) / 255 + 0.08 * weave[..., None]
    elif kind == 3:  # grass: blades of green
        image = Image.new("RGB", size, (50, 90, 40))
        draw = ImageDraw.Draw(image)
        for _ in range(int(width * height / 150)):
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            draw.line(
                (x, y, x + rng.uniform(-8, 8), y - rng.uniform(10, 30)),
                fill=(int(rng.integers(40, 120)), int(rng.integers(100, 200)), 40),
                width=2,
            )
        return image
    else:  # tiles and grout
        tile = rng.uniform(60, 150)
        grout = ((ys % tile) < tile * 0.06) | ((xs % tile) < tile * 0.06)
        base = np.where(grout[..., None], np.array([0.5, 0.5, 0.48]), np.array(_colour(rng, 120, 250)) / 255)
    noisy = base + rng.normal(0, 0.03, (height, width, 1))
    return Image.fromarray((np.clip(noisy, 0, 1) * 255).astype(np.uint8))


def _object(size: Size, rng: Rng) -> Image.Image:
    """A thing in a room: an animal's silhouette, a ball, a mug, a face, or the moon at night."""
    width, height = size
    image = Image.new("RGB", size, _colour(rng, 90, 230))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * rng.uniform(0.55, 0.8)), width, height), fill=_colour(rng, 60, 200))  # a table or floor
    cx, cy, r = width / 2, height / 2, min(width, height) * rng.uniform(0.15, 0.3)
    kind = int(rng.integers(5))
    colour = _colour(rng, 0, 200)
    if kind == 0:  # an animal: body, head, ears, legs, tail
        draw.ellipse((cx - 1.6 * r, cy - 0.7 * r, cx + 1.2 * r, cy + 0.7 * r), fill=colour)
        draw.ellipse((cx + 0.8 * r, cy - 1.4 * r, cx + 1.8 * r, cy - 0.4 * r), fill=colour)
        draw.polygon([(cx + 0.9 * r, cy - 1.1 * r), (cx + 1.1 * r, cy - 1.8 * r), (cx + 1.3 * r, cy - 1.2 * r)], fill=colour)
        for leg in (-1.2, -0.7, 0.4, 0.9):
            draw.rectangle((cx + leg * r, cy + 0.3 * r, cx + (leg + 0.25) * r, cy + 1.6 * r), fill=colour)
        draw.line((cx - 1.5 * r, cy - 0.2 * r, cx - 2.2 * r, cy - 1.2 * r), fill=colour, width=max(2, int(r * 0.15)))
    elif kind == 1:  # a ball with a highlight
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.ellipse((cx - 0.6 * r, cy - 0.6 * r, cx - 0.2 * r, cy - 0.2 * r), fill=(240, 240, 240))
    elif kind == 2:  # a mug: body and handle
        draw.rectangle((cx - r, cy - r, cx + 0.6 * r, cy + r), fill=colour)
        draw.ellipse((cx + 0.3 * r, cy - 0.6 * r, cx + 1.3 * r, cy + 0.6 * r), outline=colour, width=max(2, int(r * 0.2)))
    elif kind == 3:  # a face: skin, hair, eyes, mouth
        draw.ellipse((cx - r, cy - 1.3 * r, cx + r, cy + 1.3 * r), fill=_colour(rng, 120, 240))
        draw.chord((cx - 1.05 * r, cy - 1.4 * r, cx + 1.05 * r, cy + 0.2 * r), 180, 360, fill=_colour(rng, 0, 120))
        for ex in (-0.4, 0.4):
            draw.ellipse((cx + (ex - 0.12) * r, cy - 0.1 * r, cx + (ex + 0.12) * r, cy + 0.05 * r), fill=(30, 30, 30))
        draw.arc((cx - 0.4 * r, cy + 0.3 * r, cx + 0.4 * r, cy + 0.8 * r), 20, 160, fill=(120, 30, 30), width=max(2, int(r * 0.06)))
    else:  # the moon: a pale disc with darker seas, on a night sky
        image.paste((10, 12, 25), (0, 0, width, height))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(225, 225, 210))
        for _ in range(int(rng.integers(3, 8))):
            sx, sy, sr = cx + rng.uniform(-0.6, 0.6) * r, cy + rng.uniform(-0.6, 0.6) * r, rng.uniform(0.1, 0.3) * r
            draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=(185, 185, 175))
    return image


KINDS: tuple[tuple[str, Callable[[Size, Rng], Image.Image]], ...] = (
    ("screenshot", _screenshot),
    ("printed page", _printed_page),
    ("clock face", _clock),
    ("texture", _texture),
    ("object", _object),
)
