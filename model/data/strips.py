"""Numbers as the number reader sees them: each render through the shared transform to its strip.

Most samples are numbers written as :mod:`model.data.numbers` draws them; some are page photos
of a few digits as :mod:`model.data.render` draws them (a phone photo of a notebook), one digit
alone among them as often as a long number, and a few drawings that are no digit at all, whose
label is empty. A render is kept only when its strip holds its digits: at least ``held`` of
their strokes inside the strip's box. Sample ``i`` of a seed is the same everywhere.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from model.data.numbers import draw_number
from model.data.render import render
from model.data.shapes import non_digit
from model.reading.transform import DigitTransform, TransformParams

U8 = NDArray[np.uint8]

LENGTHS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12)
LENGTH_WEIGHTS = (10, 10, 14, 18, 20, 12, 8, 5, 2, 1)
"""How many digits a sample has, and how often: every length a person writes, one digit alone included."""


@dataclass(frozen=True)
class StripMix:
    """What the samples are, and what a kept one must hold."""

    pages: float = 0.2
    """The share drawn as page photos by ``model.data.render`` (numbers of up to six digits) ..."""
    nothing: float = 0.04
    """... and as drawings that are no digit (label "")."""
    held: float = 0.9
    """A render's strip must hold this share of its digits' strokes."""


@dataclass(frozen=True)
class Strips:
    """Strips as uint8 (ink = 255), each its own width, with the digits they show."""

    pixels: list[U8]
    labels: list[str]

    def ink(self, index: int) -> NDArray[np.float32]:
        """Strip ``index`` as the reader takes it: ink in [0, 1]."""
        return np.asarray(self.pixels[index], dtype=np.float32) * np.float32(1 / 255)


@dataclass(frozen=True)
class _Source:
    images: U8
    labels: NDArray[np.int64]
    params: TransformParams
    mix: StripMix
    seed: int


_SOURCE: _Source | None = None
_TRANSFORM: DigitTransform | None = None


def _start(source: _Source) -> None:
    global _SOURCE, _TRANSFORM
    _SOURCE, _TRANSFORM = source, DigitTransform(source.params)


def _sample(index: int) -> tuple[U8, str] | None:
    """Sample ``index``: its strip and label, or None where the transform lost its digits."""
    assert _SOURCE is not None and _TRANSFORM is not None
    source, rng = _SOURCE, np.random.default_rng((_SOURCE.seed, index))
    length = int(rng.choice(LENGTHS, p=np.array(LENGTH_WEIGHTS) / sum(LENGTH_WEIGHTS)))
    picks = rng.integers(0, len(source.images), length)
    label = "".join(str(source.labels[j]) for j in picks)
    kind = rng.random()
    if kind < source.mix.nothing:
        image, strokes, label = render([non_digit(rng)], rng).image, None, ""
    elif kind < source.mix.nothing + source.mix.pages and length <= 6:
        rendered = render([source.images[j] for j in picks], rng)
        image, strokes = rendered.image, rendered.strokes
    else:
        drawn = draw_number([source.images[j] for j in picks], label, rng)
        image, strokes = drawn.image, drawn.digits
    strip = _TRANSFORM.strip(image)
    if strip is None:
        return None
    if strokes is not None:
        x0, y0, x1, y1 = strip.box
        total = float(strokes.sum())
        if total <= 0 or float(strokes[y0:y1, x0:x1].sum()) < source.mix.held * total:
            return None
    return np.round(strip.pixels * 255).astype(np.uint8), label


def make_strips(
    images: U8,
    labels: NDArray[np.int64],
    count: int,
    params: TransformParams,
    seed: int,
    mix: StripMix = StripMix(),
    workers: int = 2,
    desc: str = "strips",
) -> Strips:
    """``count`` samples drawn from MNIST ``images`` through the transform, in parallel; those whose
    digits the transform lost are left out."""
    source = _Source(images, labels, params, mix, seed)
    pixels: list[U8] = []
    texts: list[str] = []
    with multiprocessing.get_context("fork").Pool(workers, initializer=_start, initargs=(source,)) as pool:
        for sample in tqdm(pool.imap(_sample, range(count), chunksize=64), total=count, desc=desc, unit="img"):
            if sample is not None:
                pixels.append(sample[0])
                texts.append(sample[1])
    return Strips(pixels, texts)
