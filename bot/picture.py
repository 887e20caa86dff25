"""Pictures of what was read: the photo with each digit boxed and labelled, and the model's inputs.

People check a reading by looking: a box around each digit shows at once when a shadow or
a margin line was read as a 1, and the 28x28 inputs show what the network really got.
Everything is drawn from the stored photo and the stored answer, so any replica can draw
it again later. Shapes the network set aside as "not a digit" get a dashed grey box.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from bot.answer import Answer, Box

LONGEST_SIDE = 1280
NARROWEST = 480
"""A photo narrower than this is drawn enlarged to it: on a 173x50 photo, labels at any readable
size would cover each other and the digits."""
DRAFT = 960
DIGIT = (22, 163, 74)
UNSURE = (234, 88, 12)
SET_ASIDE = (120, 120, 120)


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


def boxed(photo: bytes, answer: Answer, model_inputs: bytes = b"", count: int = 0, low_confidence: float = 0.8) -> bytes:
    """The photo (upright, at most :data:`LONGEST_SIDE` px) with every digit read boxed and labelled
    with its digit and confidence, set-aside shapes dashed, and the model inputs below: a JPEG."""
    opened = Image.open(io.BytesIO(photo))
    full_width = _upright_width(opened)
    if opened.format == "JPEG":
        # Decode at a reduced scale where the photo is much larger: a 4000x3000 photo comes out at
        # 1000x750, a 1280x960 one whole. Decoding and resizing the full photo cost 65 ms, this 10.
        width, height = opened.size
        opened.draft("RGB", (width * DRAFT // max(width, height), height * DRAFT // max(width, height)))
    image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    image = _enlarged(image)
    scale = image.width / full_width
    draw = ImageDraw.Draw(image)
    line = max(2, round(image.width / 320))
    font = ImageFont.load_default(size=max(14, image.width // 40))
    for box in answer.set_aside:
        _dashed(draw, _scaled(box, scale), SET_ASIDE, line)
    for item in answer.digits:
        x0, y0, x1, y1 = _scaled(item.box, scale)
        colour = DIGIT if item.p >= low_confidence else UNSURE
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=line)
        label = f"{item.digit} {item.p:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        above = max(0, y0 - (bottom - top) - 2 * line)
        draw.rectangle((x0, above, x0 + right - left + 2 * line, above + bottom - top + 2 * line), fill=colour)
        draw.text((x0 + line - left, above + line - top), label, fill="white", font=font)
    if count:
        strip = inputs_strip(model_inputs, count, scale=max(2, min(8, image.width // (30 * count))))
        canvas = Image.new("RGB", (image.width, image.height + strip.height + 8), "black")
        canvas.paste(image, (0, 0))
        canvas.paste(strip.convert("RGB"), ((image.width - strip.width) // 2, image.height + 4))
    else:
        canvas = image
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _enlarged(image: Image.Image) -> Image.Image:
    """A narrow photo at :data:`NARROWEST` px wide (its longest side still within :data:`LONGEST_SIDE`)."""
    factor = min(NARROWEST / image.width, LONGEST_SIDE / max(image.size))
    if factor <= 1:
        return image
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def _upright_width(image: Image.Image) -> int:
    """The photo's width once EXIF orientation is applied, at full size: the boxes' frame."""
    width, height = image.size
    rotated = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    return int(height if rotated else width)


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
