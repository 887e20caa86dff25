"""Stage 1, decode: any image file to a grey working image of a known size.

JPEG, PNG, WebP, BMP, GIF (first frame) and HEIC; EXIF orientation; any mode. JPEGs are
decoded at a reduced scale straight away (``draft``), which makes a phone photo several
times cheaper than a full decode followed by a resize.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import pillow_heif
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from model.reading.transform.bounds import bounded, check_bounds
from model.reading.transform.ops import Gray, resize
from model.reading.transform.reasons import Unreadable
from model.reading.transform.stage import Stage

pillow_heif.register_heif_opener()  # iPhones save HEIC; sent as a file, it reaches us as is


class ImageError(ValueError):
    """The input cannot be read as an image: ``kind`` says why (the bot words it in its user's
    language), the message says it in English for logs and the command line."""

    def __init__(self, kind: Unreadable, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class DecodeParams:
    work_size: int = bounded(512, 64, 4096)
    """Larger images are reduced to this long side: enough for a small digit in a big photo."""
    min_size: int = bounded(256, 64, 4096)
    """Smaller images are enlarged to this long side, so a 60 px crop's strokes stay whole."""
    max_pixels: int = bounded(40_000_000, 64**2, 10**9)
    """Images other than JPEG with more pixels are refused before decoding: a 100 KB PNG can
    claim 9400x9400 pixels, gigabytes once decoded. JPEGs decode at a reduced scale instead."""
    min_side: int = bounded(8, 1, 64)
    """An image thinner than this (in pixels, as decoded) is too small to hold a digit."""
    reduce_headroom: int = bounded(2, 1, 16)
    """A large image other than JPEG is first averaged down by a whole factor to no less than this many
    times ``work_size``; the final resize does the rest."""
    area_below: float = bounded(0.5, 0.0, 1.0)
    """The final resize averages (area filter) when it shrinks below this ratio, and interpolates
    bilinearly above it, where every source pixel still reaches the result."""
    opaque: float = bounded(0.5, 0.0, 1.0)
    """Pixels of a transparent image more opaque than this are what was drawn ..."""
    light_drawing: float = bounded(0.5, 0.0, 1.0)
    """... and when their mean grey is above this, the drawing is light: it is laid on black, else on white."""

    def __post_init__(self) -> None:
        check_bounds(self)
        if not self.min_size <= self.work_size:
            raise ValueError(f"need min_size <= work_size, not {self.min_size}, {self.work_size}")
        if self.max_pixels < self.work_size**2:
            raise ValueError(f"max_pixels {self.max_pixels} is below a working image ({self.work_size}^2)")


@dataclass(frozen=True)
class WorkImage:
    """The grey working image and the factor that maps its pixels back to the upright original."""

    gray: Gray
    scale: float


def open_image(source: bytes | Image.Image, max_pixels: int) -> Image.Image:
    """Open lazily (the header only) and refuse what would cost too much to decode, in words a person understands."""
    if isinstance(source, Image.Image):
        image = source
    else:
        if len(source) == 0:
            raise ImageError(Unreadable.EMPTY, "the file is empty")
        try:
            image = Image.open(io.BytesIO(source))
        except Image.DecompressionBombError as err:
            raise ImageError(Unreadable.TOO_LARGE, _too_big()) from err
        except (UnidentifiedImageError, OSError, ValueError) as err:
            raise ImageError(Unreadable.NOT_AN_IMAGE, "this file is not an image I can read") from err
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS or width * height
    if image.format != "JPEG":
        limit = min(limit, max_pixels)
    if width * height > limit:
        raise ImageError(Unreadable.TOO_LARGE, _too_big(limit))
    if width < 1 or height < 1:
        raise ImageError(Unreadable.NO_PIXELS, "the image has no pixels")
    return image


def upright(source: bytes | Image.Image, longest: int, least: int | None = None) -> tuple[Image.Image, float]:
    """The photo in the frame a reading's boxes are given in, for drawing them: turned as its EXIF
    tag says (as :class:`Decode` turns it), in colour, its long side at most ``longest`` (a JPEG
    decoded at a reduced scale of no less than ``least``, default ``longest``); and its width over
    the upright original's, the factor that maps a box onto it."""
    image = open_image(source, DecodeParams().max_pixels)
    orig_w, orig_h = image.size
    ratio = (least or longest) / max(orig_w, orig_h)
    if image.format == "JPEG" and ratio < 1:
        image.draft("RGB", (int(orig_w * ratio) + 1, int(orig_h * ratio) + 1))
    turned, width = _turned(image, orig_w, orig_h)
    frame = turned.convert("RGB")
    frame.thumbnail((longest, longest))
    return frame, frame.width / width


def _too_big(limit: float | None = None) -> str:
    limit = limit or Image.MAX_IMAGE_PIXELS or 0
    return f"the image is too large to read safely (over {limit / 1e6:.0f} megapixels)"


class Decode(Stage[DecodeParams]):
    """Stage 1: an image file (or an opened image) to the grey working image."""

    def __call__(self, source: bytes | Image.Image) -> WorkImage:
        """Decode to grey in [0, 1] with the long side between ``min_size`` and ``work_size``.

        Later stages measure in fractions of the long side, so a 60 px crop and a phone photo
        are read alike; a small image is enlarged only so far that its strokes stay whole.
        """
        params = self.params
        work_size = params.work_size
        image = open_image(source, params.max_pixels)
        try:
            image.seek(0)
            orig_w, orig_h = image.size
            if image.format == "JPEG":
                ratio = work_size / max(orig_w, orig_h)
                if ratio < 1:
                    image.draft("L", (int(orig_w * ratio) + 1, int(orig_h * ratio) + 1))
            else:
                image = _reduced(image, max(orig_w, orig_h) // (params.reduce_headroom * work_size))
            image, width = _turned(image, orig_w, orig_h)
            gray = _to_gray(image, params)
        except ImageError:
            raise
        except Image.DecompressionBombError as err:
            raise ImageError(Unreadable.TOO_LARGE, _too_big()) from err
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            raise ImageError(Unreadable.DAMAGED, "the image file is damaged or truncated") from err
        height, width = gray.shape
        long_side = max(height, width)
        ratio = work_size / long_side if long_side > work_size else max(1.0, params.min_size / long_side)
        if ratio != 1:
            size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
            gray = resize(gray, size, cv2.INTER_AREA if ratio < params.area_below else cv2.INTER_LINEAR)
        scale = width / gray.shape[1]
        return WorkImage(gray=gray, scale=scale)


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """A large image averaged down by a whole factor in its own few bytes per pixel, before any
    float copy: a 40-megapixel palette PNG then costs tens of megabytes, not gigabytes."""
    if factor < 2:
        return image
    exif = image.getexif()
    if image.mode == "P":
        reduced = _palette_reduced(image, factor)
        if exif:
            reduced.info["exif"] = exif.tobytes()
        return reduced
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    reduced = image.reduce(factor)
    if exif:
        reduced.info["exif"] = exif.tobytes()  # exif_transpose reads the orientation from here
    return reduced


BAND = 256
"""Rows of a palette image looked up at a time: a band's grey and alpha are a few megabytes, where
Pillow's conversion of the whole image goes through RGBA, four bytes a pixel."""


def _palette_reduced(image: Image.Image, factor: int) -> Image.Image:
    """A palette image averaged down by ``factor``, band by band, through its palette's grey and alpha
    (``LA``, or ``L`` without transparency): the peak stays near the indices themselves, one byte a pixel.
    Grey is averaged weighted by alpha, as Pillow's ``reduce`` does: a transparent pixel's colour counts for nothing."""
    grey, alpha = _palette_tables(image)
    covered: Gray = grey.astype(np.float32) * alpha.astype(np.float32) / np.float32(255)
    tables: list[Gray] = [covered, alpha.astype(np.float32)] if "transparency" in image.info else [grey.astype(np.float32)]
    width, height = image.size
    rows, cols = height // factor, width // factor
    step = max(factor, BAND - BAND % factor)
    parts: list[list[Gray]] = [[] for _ in tables]
    for top in range(0, rows * factor, step):
        indices: NDArray[np.uint8] = np.asarray(image.crop((0, top, cols * factor, min(top + step, rows * factor))))
        size = (indices.shape[1] // factor, indices.shape[0] // factor)
        for table, bands in zip(tables, parts, strict=True):
            bands.append(resize(table[indices], size, cv2.INTER_AREA))
    channels = [np.concatenate(bands) for bands in parts]
    if len(channels) == 1:
        return Image.fromarray(np.round(channels[0]).astype(np.uint8), mode="L")
    weighted, opacity = channels
    shade = np.divide(weighted * 255, opacity, out=np.zeros_like(weighted), where=opacity > 0)
    return Image.merge("LA", [Image.fromarray(np.round(c).clip(0, 255).astype(np.uint8), mode="L") for c in (shade, opacity)])


def _palette_tables(image: Image.Image) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Each palette index's grey (Pillow's L: ITU-R 601-2 luma) and alpha, as 256-entry lookup tables."""
    palette = np.zeros((256, 3), np.float32)
    colours = np.asarray(image.getpalette("RGB") or [], np.float32).reshape(-1, 3)[:256]
    palette[: len(colours)] = colours
    grey = np.round(palette @ np.array([0.299, 0.587, 0.114], np.float32)).clip(0, 255).astype(np.uint8)
    alpha = np.full(256, 255, np.uint8)
    transparency = image.info.get("transparency")
    if isinstance(transparency, bytes):
        alpha[: len(transparency)] = np.frombuffer(transparency, np.uint8)[:256]
    elif isinstance(transparency, int):
        alpha[transparency] = 0
    return grey, alpha


def _turned(image: Image.Image, orig_w: int, orig_h: int) -> tuple[Image.Image, int]:
    """The image turned as its EXIF tag says, and the upright original's width (``orig_w`` x ``orig_h``
    is the file's own size, before any reduced decode): the one frame boxes are given in."""
    turned = ImageOps.exif_transpose(image) or image
    w, h = turned.size
    return turned, orig_h if (w > h) != (orig_w > orig_h) else orig_w


def _to_gray(image: Image.Image, params: DecodeParams) -> Gray:
    """Any Pillow mode to float grey in [0, 1]; transparency is laid on a contrasting ground."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        lum = np.asarray(rgba.convert("L"), dtype=np.float32) / 255.0
        if alpha.min() >= 1.0:
            return lum
        opaque = alpha > params.opaque
        ink_is_light = bool(opaque.any()) and float(lum[opaque].mean()) > params.light_drawing
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
