"""Pictures of what was read: the photo with each digit boxed and labelled, and the model's inputs.

People check a reading by looking: a box around each digit shows at once when a shadow or
a margin line was read as a 1, and the 28x28 inputs show what the network really got.
Everything is drawn from the stored photo and the stored answer, so any replica can draw
it again later. Shapes the network set aside as "not a digit" get a dashed grey box.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bot.replies.answer import Answer, Box
from model.reading.transform import upright

LONGEST_SIDE = 1280
NARROWEST = 480
"""A photo narrower than this is drawn enlarged to it: on a 173x50 photo, labels at any readable
size would cover each other and the digits."""
DRAFT = 960
DIGIT = (22, 163, 74)
UNSURE = (234, 88, 12)
SET_ASIDE = (120, 120, 120)
Rect = tuple[int, int, int, int]


def inputs_strip(model_inputs: bytes, count: int, scale: int = 8) -> Image.Image:
    """The network's 28x28 inputs, enlarged side by side: the picture that explains a misread."""
    crops = np.frombuffer(model_inputs, dtype=np.uint8).reshape(count, 28, 28)
    gap = np.full((28, 2), 60, dtype=np.uint8)
    row = np.concatenate([part for crop in crops for part in (crop, gap)][:-1], axis=1)
    return Image.fromarray(row).resize((row.shape[1] * scale, 28 * scale), Image.Resampling.NEAREST)


def inputs_picture(model_inputs: bytes, count: int) -> bytes:
    buffer = io.BytesIO()
    inputs_strip(model_inputs, count).save(buffer, format="PNG")
    return buffer.getvalue()


def _upright(photo: bytes) -> tuple[Image.Image, float]:
    """The photo in the boxes' frame (the model's ``upright``) at the picture's size, and that size
    over the upright photo's width. A JPEG much larger is decoded at a reduced scale (a 4000x3000
    photo at 1000x750, a 1280x960 one whole): the picture is drawn small anyway."""
    image, scale = upright(photo, LONGEST_SIDE, least=DRAFT)
    enlarged = _enlarged(image)
    return enlarged, scale * enlarged.width / image.width


def boxed(photo: bytes, answer: Answer, model_inputs: bytes = b"", count: int = 0, low_confidence: float = 0.8) -> bytes:
    """The photo (upright, at most :data:`LONGEST_SIDE` px) with every digit read boxed and labelled
    with its digit and confidence, set-aside shapes dashed, and the model inputs below: a JPEG."""
    image, scale = _upright(photo)
    draw = ImageDraw.Draw(image)
    line = max(2, round(image.width / 320))
    font = ImageFont.load_default(size=max(14, image.width // 40))
    for box in answer.set_aside:
        _dashed(draw, _scaled(box, scale), SET_ASIDE, line)
    taken: list[Rect] = []
    for item in sorted(answer.digits, key=lambda d: d.box[0]):
        box = _scaled(item.box, scale)
        colour = DIGIT if item.confidence >= low_confidence else UNSURE
        draw.rectangle(box, outline=colour, width=line)
        label = f"{item.digit} {item.confidence:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        size = (round(right - left) + 2 * line, round(bottom - top) + 2 * line)
        where = _label_place(box, size, taken, image.size)
        taken.append(where)
        draw.rectangle(where, fill=colour)
        draw.text((where[0] + line - left, where[1] + line - top), label, fill="white", font=font)
    parts = [image]
    if any(d.confidence < low_confidence for d in answer.digits) or answer.set_aside:
        parts.append(_legend(image.width, font, line, low_confidence, bool(answer.set_aside)))
    if count:
        parts.append(inputs_strip(model_inputs, count, scale=max(2, min(8, image.width // (30 * count)))).convert("RGB"))
    canvas = _stacked(parts)
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _label_place(box: Rect, size: tuple[int, int], taken: list[Rect], frame: tuple[int, int]) -> Rect:
    """Where a digit's label goes: above its box, else below it, else above the labels in the way;
    never over another label (on a small photo a label is wider than its digit)."""
    x0, y0, _, y1 = box
    width, height = size
    x = max(0, min(x0, frame[0] - width))
    column = (x, 0, x + width, frame[1])
    in_the_way = [other[1] for other in taken if _overlaps(column, other)]
    places = []
    for y in (y0 - height, y1, min(in_the_way, default=y0) - height):
        top = max(0, min(y, frame[1] - height))
        places.append((x, top, x + width, top + height))
    return next((place for place in places if not any(_overlaps(place, other) for other in taken)), places[0])


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend(width: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, line: int, low_confidence: float, aside: bool) -> Image.Image:
    """One line under the photo, in no particular language: what the box colours mean."""
    entries = [(DIGIT, f">= {low_confidence:.0%}"), (UNSURE, f"< {low_confidence:.0%}")] + ([(SET_ASIDE, "not 0-9")] if aside else [])
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    height = int(probe.textbbox((0, 0), "Ag", font=font)[3]) + 4 * line
    legend = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(legend)
    x = 2 * line
    for colour, text in entries:
        draw.rectangle((x, 2 * line, x + height - 4 * line, height - 2 * line), fill=colour)
        x += height - 2 * line
        draw.text((x, line), text, fill="black", font=font)
        x += int(draw.textlength(text, font=font)) + 4 * line
    return legend


def _stacked(parts: list[Image.Image]) -> Image.Image:
    """The photo, then each strip under it, centred, on black."""
    width = parts[0].width
    canvas = Image.new("RGB", (width, sum(part.height for part in parts) + 4 * (len(parts) - 1)), "black")
    y = 0
    for part in parts:
        canvas.paste(part, ((width - part.width) // 2, y))
        y += part.height + 4
    return canvas


def _enlarged(image: Image.Image) -> Image.Image:
    """A narrow photo at :data:`NARROWEST` px wide (its longest side still within :data:`LONGEST_SIDE`)."""
    factor = min(NARROWEST / image.width, LONGEST_SIDE / max(image.size))
    if factor <= 1:
        return image
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def _scaled(box: Box, scale: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    return x0, y0, x1, y1


def _dashed(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], colour: tuple[int, int, int], width: int) -> None:
    x0, y0, x1, y1 = box
    dash = 4 * width
    for start in range(x0, x1, 2 * dash):
        end = min(start + dash, x1)
        draw.line((start, y0, end, y0), fill=colour, width=width)
        draw.line((start, y1, end, y1), fill=colour, width=width)
    for start in range(y0, y1, 2 * dash):
        end = min(start + dash, y1)
        draw.line((x0, start, x0, end), fill=colour, width=width)
        draw.line((x1, start, x1, end), fill=colour, width=width)
