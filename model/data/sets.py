"""The named benchmark sets behind README's figures, each defined once with its seed.

Rendered sets are drawn only from MNIST *test* digits, and sample ``i`` depends only on
``(seed, i)``: anyone with MNIST gets the same photos, so figures are comparable across
models and machines. Real photos come from a folder with a ``labels.csv``; they are
never trained on.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter, ImageOps

from model.data import scenes, sweeps
from model.data.numbers import draw_number
from model.data.render import Look, on_canvas, photo_of
from model.data.shapes import non_digits

U8 = NDArray[np.uint8]

SEED = 2024
SIZES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
"""Digit heights, as a fraction of the frame's side, that the size sweep steps through."""


@dataclass(frozen=True)
class Sample:
    """One photo and what it shows (``""``: no digit); ``group`` is its writer or its size step."""

    photo: Image.Image | bytes
    label: str
    group: str = ""


def mnist(images: U8, labels: NDArray[np.int64], count: int) -> Iterator[Sample]:
    """MNIST test digits as they are, white on black: the figure comparable with published ones."""
    for i in range(min(count, len(images))):
        yield Sample(Image.fromarray(images[i], mode="L"), str(labels[i]))


def photos(images: U8, labels: NDArray[np.int64], count: int, seed: int = SEED, digits: int = 1) -> Iterator[Sample]:
    """Phone-photo-like renders of ``digits``-digit numbers (the photo-like set, and numbers)."""
    for i in range(count):
        rng = np.random.default_rng((seed, digits, i))
        picks = rng.integers(0, len(images), digits)
        yield Sample(photo_of([images[j] for j in picks], seed + 1000 * digits, i), "".join(str(labels[j]) for j in picks))


def written_numbers(images: U8, labels: NDArray[np.int64], count: int, seed: int = SEED) -> Iterator[Sample]:
    """Numbers of 2 to 8 digits written as :mod:`model.data.numbers` draws them (cheques, cells, ruled
    paper, screens; touching digits, separators, closing lines), grouped by length."""
    for i in range(count):
        rng = np.random.default_rng((seed, 11, i))
        picks = rng.integers(0, len(images), int(rng.integers(2, 9)))
        label = "".join(str(labels[j]) for j in picks)
        yield Sample(draw_number([images[j] for j in picks], label, rng).image, label, f"{len(label)} digits")


def turned_photos(images: U8, labels: NDArray[np.int64], count: int, seed: int = SEED) -> Iterator[Sample]:
    """The photo-like single digits lying on their side: every other one turned a quarter clockwise,
    the rest counter-clockwise (a crop the sender turned, which no EXIF tag undoes)."""
    for i, sample in enumerate(photos(images, labels, count, seed)):
        yield replace(sample, photo=turned(sample.photo, i), group="clockwise" if i % 2 else "counter-clockwise")


def turned(photo: Image.Image | bytes, i: int) -> Image.Image:
    """A photo (upright as its EXIF tag says) turned a quarter: clockwise for odd ``i``, else counter-clockwise."""
    image = photo if isinstance(photo, Image.Image) else Image.open(io.BytesIO(photo))
    image = (ImageOps.exif_transpose(image) or image).convert("RGB")
    return image.transpose(Image.Transpose.ROTATE_270 if i % 2 else Image.Transpose.ROTATE_90)


def drawn_non_digits(count: int, seed: int = SEED) -> Iterator[Sample]:
    """Photos of drawn non-digits (faces, stars, scribbles...), where "no digit" is right.

    Drawn by the same generator as the training shapes but from another seed, so this
    measures rejection of that family of shapes, not of everything that is not a digit.
    """
    for i, shape in enumerate(non_digits(count, seed)):
        sampled = Look.sample(np.random.default_rng((seed, i, 1)))
        look = replace(sampled, framing="page", gaps=False, tiny=False, faint=False, pressure=False)  # as training draws them
        yield Sample(photo_of([shape], seed + 5000, i, look), "")


def blank_pages(count: int, seed: int = SEED) -> Iterator[Sample]:
    """Photos of paper with nothing written on it (shadows, lines, page edges as photos have them): "no digit"."""
    blank = np.zeros((28, 28), np.uint8)
    for i in range(count):
        look = replace(Look.sample(np.random.default_rng((seed, 9, i))), faint=False)
        yield Sample(photo_of([blank], seed + 9000, i, look), "")


def everyday(count: int, seed: int = SEED) -> Iterator[Sample]:
    """Everyday pictures with no digit (screenshots, printed pages, clock faces, textures, objects), by kind: "no digit"."""
    for kind, picture in scenes.scenes(count, seed):
        yield Sample(picture, "", kind)


def screen(images: U8, labels: NDArray[np.int64], count: int, seed: int = SEED) -> Iterator[Sample]:
    """Digits drawn on a screen: black on a flat white canvas, 45% to 95% of its side."""
    for i in range(count):
        rng = np.random.default_rng((seed, 10, i))
        j = int(rng.integers(len(images)))
        yield Sample(on_canvas(images[j], float(rng.uniform(0.45, 0.95)), rng, paper=False), str(labels[j]))


def plain(strokes: list[sweeps.Stroke]) -> Iterator[Sample]:
    """The single-stroke sweep (every one a 1) or the ring sweep (every one a 0) of ``model.data.sweeps``, by paper."""
    for stroke in strokes:
        yield Sample(sweeps.photo(stroke), stroke.label, stroke.paper)


def size_sweep(images: U8, labels: NDArray[np.int64], per_size: int, seed: int = SEED, paper: bool = False) -> Iterator[Sample]:
    """A digit at each of :data:`SIZES` of a 400x400 frame, centred: dark on white, or (``paper``)
    on a photo of paper. At 0.95 it nearly touches the frame, as a digit drawn to fill a canvas does."""
    for size in SIZES:
        for i in range(per_size):
            rng = np.random.default_rng((seed, 7, int(size * 100), i))
            j = int(rng.integers(len(images)))
            photo = on_canvas(images[j], size, rng, paper=paper)
            yield Sample(photo, str(labels[j]), f"{size:.0%}")


def tight_crops(images: U8, labels: NDArray[np.int64], count: int, seed: int = SEED) -> Iterator[Sample]:
    """Scans cut tight to the digit, dark on white, the digit touching the frame (a form's box)."""
    for i in range(count):
        rng = np.random.default_rng((seed, 8, i))
        j = int(rng.integers(len(images)))
        yield Sample(on_canvas(images[j], 1.0, rng, paper=False, tight=True), str(labels[j]))


NAMES = ("mnist", "photo", "turned", "numbers", "written", "non_digits", "scenes", "sizes", "tight", "screen", "strokes", "rings", "blank")
"""The rendered benchmark sets, by the names README's figures and the promotion gate use."""


def named(name: str, images: U8, labels: NDArray[np.int64], count: int) -> tuple[Iterator[Sample], int]:
    """One of :data:`NAMES` at a given size (for ``sizes``: per step and background), and how many
    samples that makes: ``scripts.evaluate`` and the promotion gate both draw their sets here."""
    if name == "mnist":
        return mnist(images, labels, count), min(count, len(images))
    if name == "photo":
        return photos(images, labels, count), count
    if name == "turned":
        return turned_photos(images, labels, count), count
    if name == "numbers":
        return photos(images, labels, count, digits=3), count
    if name == "written":
        return written_numbers(images, labels, count), count
    if name == "non_digits":
        return drawn_non_digits(count), count
    if name == "scenes":
        return everyday(count), count
    if name == "sizes":
        return itertools.chain(size_sweep(images, labels, count), size_sweep(images, labels, count, paper=True)), 2 * count * len(SIZES)
    if name == "tight":
        return tight_crops(images, labels, count), count
    if name == "screen":
        return screen(images, labels, count), count
    if name in ("strokes", "rings"):
        strokes = list(sweeps.strokes() if name == "strokes" else sweeps.rings())
        return plain(strokes), len(strokes)
    if name == "blank":
        return blank_pages(count), count
    raise ValueError(f"no benchmark set named {name!r}; there are {', '.join(NAMES)}")


def real_photos(folder: Path) -> list[Sample]:
    """Real photos listed in ``folder/labels.csv`` (``file,label[,writer]``), read as the bot gets them: bytes."""
    with (folder / "labels.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [Sample((folder / row["file"]).read_bytes(), row["label"], row.get("writer") or "") for row in rows]


def real_numbers(folder: Path) -> list[Sample]:
    """Real handwritten numbers listed in ``folder/labels.csv`` (``file,label[,source]``), grouped by
    their length: numbers are measured per length in the field."""
    return [replace(sample, group=f"{len(sample.label)} digits") for sample in real_photos(folder)]


@dataclass(frozen=True)
class Degrade:
    """How a derived real set makes each photo worse, every photo staying readable to a person."""

    long_side: tuple[float, float]
    """The photo is reduced (area filter) to a long side in this range, in pixels ..."""
    quality: int
    """... and saved as a JPEG of this quality, last."""
    contrast: tuple[float, float] = (1.0, 1.0)
    """Every pixel's distance from the paper's tone (its median) is multiplied by a factor in this range ..."""
    dim: tuple[float, float] = (1.0, 1.0)
    """... then the whole photo by one in this range (a dim room) ..."""
    blur: float = 0.0
    """... then a Gaussian blur of this many pixels (a soft lens)."""
    min_span: float = 0.3
    """Photos whose digit spans less of their long side are left out: reduced to 56-80 px, a digit
    under 30% of the frame is a few pixels of blur that no person could read either."""


DERIVED = {
    "real_faint_small": (Degrade(long_side=(56, 80), quality=70, contrast=(0.3, 0.36), dim=(0.75, 0.9), blur=0.7), 11),
    "real_small": (Degrade(long_side=(48, 64), quality=75), 12),
}
"""The derived real sets, built on the fly from any real folder (never stored), with their seeds."""


def derived(name: str, real: list[Sample], span: Callable[[Image.Image | bytes], float]) -> list[Sample]:
    """``real`` made faint and small, or small, as :data:`DERIVED` says; photo ``i`` depends only on (seed, i).

    ``span`` measures how much of a photo's long side its digit spans, on the photo as it is; the
    evaluation passes the reference reader's, which knows nothing of the product."""
    degrade, seed = DERIVED[name]
    return [
        Sample(degraded(sample.photo, degrade, np.random.default_rng((SEED, seed, i))), sample.label, sample.group)
        for i, sample in enumerate(real)
        if span(sample.photo) >= degrade.min_span
    ]


def degraded(photo: Image.Image | bytes, degrade: Degrade, rng: np.random.Generator) -> bytes:
    """One photo made small (and faint), as JPEG bytes: what a thumbnail, a dim room or a soft lens sends."""
    image = photo if isinstance(photo, Image.Image) else Image.open(io.BytesIO(photo))
    image = (ImageOps.exif_transpose(image) or image).convert("RGB")
    ratio = rng.uniform(*degrade.long_side) / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    pixels = np.asarray(image.resize(size, Image.Resampling.BOX), dtype=np.float64)
    paper = np.median(pixels.reshape(-1, 3), axis=0)
    faded = (paper + (pixels - paper) * rng.uniform(*degrade.contrast)) * rng.uniform(*degrade.dim)
    out = Image.fromarray(np.clip(np.round(faded), 0, 255).astype(np.uint8), mode="RGB")
    if degrade.blur:
        out = out.filter(ImageFilter.GaussianBlur(degrade.blur))
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=degrade.quality)
    return buffer.getvalue()
