"""MNIST as the model sees it: every digit goes through the shared transform first.

Two views of each training digit: the raw MNIST image (white on black) and a photo-like
render of it (``model.data.render``). Both reach the network only through
``DigitTransform``, the same door a user's photo takes.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from model.data.render import Look, render
from model.data.shapes import non_digits
from model.data.sweeps import plain_digits
from model.reading.classes import NOT_A_DIGIT
from model.reading.transform import DigitTransform, TransformParams

U8 = NDArray[np.uint8]


@dataclass(frozen=True)
class Digits:
    """Digits after the transform, stored as uint8 28x28 (ink = 255) to keep memory small."""

    pixels: U8
    labels: NDArray[np.int64]


def load_mnist(root: str, train: bool, download: bool = True) -> tuple[U8, NDArray[np.int64]]:
    """MNIST images (N, 28, 28) and labels via torchvision; ``download`` for real users."""
    from torchvision.datasets import MNIST

    dataset = MNIST(root=root, train=train, download=download)
    return dataset.data.numpy(), dataset.targets.numpy().astype(np.int64)


@dataclass(frozen=True)
class Seen:
    """How whole a photo render must reach the network to be learned from: at least ``recall`` of its
    true strokes kept, and at least ``precision`` of what was kept on them.

    A render whose strokes the transform lost in part teaches the network its label for another
    shape: half of an 8 taught as 8 is a sure misread of a 3 later, and one spoke of a star taught
    as "not a digit" is a 1 swallowed."""

    recall: float = 0.0
    precision: float = 0.0


@dataclass(frozen=True)
class _Job:
    image: U8
    index: int
    photo: bool
    whole: bool
    seed: int
    params: dict[str, Any]
    seen: Seen


def _job(job: _Job) -> list[U8]:
    """Both views (grey and solid) of the one digit the transform finds, or none."""
    transform = DigitTransform(TransformParams.from_dict(job.params))
    if not job.photo:
        crops = transform(Image.fromarray(job.image, mode="L"), single=True).crops
    else:
        look = None
        if job.whole:  # a look that keeps the drawing as drawn: no pen skips, no tiny crops, an even pen
            sampled = Look.sample(np.random.default_rng((job.seed, job.index, 1)))
            look = replace(sampled, framing="page", gaps=False, tiny=False, faint=False, pressure=False)
        rendered = render([job.image], np.random.default_rng((job.seed, job.index)), look)
        segmentation, kept = transform.with_kept(rendered.image, single=True)
        overlap = rendered.overlap(kept)
        if overlap.recall < job.seen.recall or overlap.precision < job.seen.precision:
            return []
        crops = segmentation.crops
    return [np.round(view * 255).astype(np.uint8) for crop in crops[:1] for view in (crop.pixels, crop.solid)]


def transform_digits(
    images: U8,
    labels: NDArray[np.int64],
    params: TransformParams,
    photo: bool,
    seed: int,
    workers: int = 2,
    desc: str = "transform",
    whole: bool = False,
    seen: Seen = Seen(),
) -> Digits:
    """Run every digit (or its photo render) through the shared transform, in parallel; each digit
    gives two samples, its two views (``DigitCrop.pixels`` and ``.solid``).

    A photo render the transform did not see whole enough (``seen``) is dropped, as is a digit
    in which it finds no ink (a pen too faint to see: the right answer for it too). ``whole``
    renders photos only in looks that keep the drawing as drawn (on a page, no pen skips, no
    tiny crops, an even pen): for drawings whose label depends on all of their parts.
    """
    jobs = (_Job(images[i], i, photo, whole, seed, params.to_dict(), seen) for i in range(len(images)))
    kept: list[U8] = []
    kept_labels: list[int] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        results = pool.imap(_job, jobs, chunksize=64)
        for label, views in tqdm(zip(labels, results, strict=True), total=len(images), desc=desc, unit="img"):
            kept += views
            kept_labels += [int(label)] * len(views)
    pixels = np.stack(kept) if kept else np.zeros((0, params.crop.canvas, params.crop.canvas), dtype=np.uint8)
    return Digits(pixels=pixels, labels=np.asarray(kept_labels, dtype=np.int64))


def concat(*parts: Digits) -> Digits:
    return Digits(np.concatenate([p.pixels for p in parts]), np.concatenate([p.labels for p in parts]))


def drawn_sets(kind: str, count: int, held: int, params: TransformParams, seed: int, seen: Seen, workers: int = 2) -> tuple[Digits, Digits]:
    """Drawn examples to learn from, half as drawn (like raw MNIST) and half as photos, and ``held``
    more as photos to check on: ``kind`` "non-digits" (faces, stars...: "not a digit") or "plain"
    (lone strokes and rings: 1 and 0). Photos are drawn whole (``whole``) and kept only when seen whole."""
    if kind == "non-digits":
        shapes = non_digits(count + held, seed)
        labels = np.full(len(shapes), NOT_A_DIGIT, dtype=np.int64)
    else:
        shapes, labels = plain_digits(count + held, seed)
    half = count // 2
    raw = transform_digits(shapes[:half], labels[:half], params, photo=False, seed=seed, workers=workers, desc=kind)
    photos = transform_digits(
        shapes[half:count], labels[half:count], params, True, seed + 3, workers, f"{kind} photos", whole=True, seen=seen
    )
    checks = transform_digits(shapes[count:], labels[count:], params, True, seed + 4, workers, f"held {kind}", whole=True, seen=seen)
    return concat(raw, photos), checks
