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

from model.data.render import Look, photo_of
from model.data.shapes import non_digits
from model.reading.network import NOT_A_DIGIT
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


def _job(args: tuple[U8, int, bool, bool, int, dict[str, Any]]) -> U8 | None:
    image, index, photo, whole, seed, params = args
    transform = DigitTransform(TransformParams.from_dict(params))
    if not photo:
        source = Image.fromarray(image, mode="L")
    elif whole:  # a look that keeps the drawing as drawn: a blob filling the frame reads as its outline, a ring, and a ring is a 0
        look = replace(Look.sample(np.random.default_rng((seed, index, 1))), framing="page", gaps=False, tiny=False)
        source = photo_of([image], seed, index, look)
    else:
        source = photo_of([image], seed, index)
    crops = transform.segment(source, single=True).crops
    if not crops:
        return None
    return np.round(crops[0].pixels * 255).astype(np.uint8)


def transform_digits(
    images: U8,
    labels: NDArray[np.int64],
    params: TransformParams,
    photo: bool,
    seed: int,
    workers: int = 2,
    desc: str = "transform",
    whole: bool = False,
) -> Digits:
    """Run every digit (or its photo render) through the shared transform, in parallel.
    A digit in which the transform finds no ink is dropped; that happens for a handful of
    renders where the pen was too faint to see, which is the right answer for them too.
    ``whole`` renders photos only in looks that keep the drawing as drawn (on a page, no
    pen skips, no tiny crops): for drawings whose label depends on all of their parts.
    """
    jobs = ((images[i], i, photo, whole, seed, params.to_dict()) for i in range(len(images)))
    kept: list[U8] = []
    kept_labels: list[int] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        results = pool.imap(_job, jobs, chunksize=64)
        for label, result in tqdm(zip(labels, results, strict=True), total=len(images), desc=desc, unit="img"):
            if result is not None:
                kept.append(result)
                kept_labels.append(int(label))
    pixels = np.stack(kept) if kept else np.zeros((0, params.crop.canvas, params.crop.canvas), dtype=np.uint8)
    return Digits(pixels=pixels, labels=np.asarray(kept_labels, dtype=np.int64))


def concat(*parts: Digits) -> Digits:
    return Digits(np.concatenate([p.pixels for p in parts]), np.concatenate([p.labels for p in parts]))


def non_digit_sets(count: int, held: int, params: TransformParams, seed: int, workers: int = 2) -> tuple[Digits, Digits]:
    """Examples of "not a digit" to learn from (half as drawn, like raw MNIST; half as photos),
    and ``held`` more as photos to check on."""
    shapes = non_digits(count + held, seed)
    labels = np.full(len(shapes), NOT_A_DIGIT, dtype=np.int64)
    half = count // 2
    raw = transform_digits(shapes[:half], labels[:half], params, photo=False, seed=seed, workers=workers, desc="non-digits")
    photos = transform_digits(
        shapes[half:count], labels[half:count], params, photo=True, seed=seed + 3, workers=workers, desc="non-digit photos", whole=True
    )
    checks = transform_digits(
        shapes[count:], labels[count:], params, photo=True, seed=seed + 4, workers=workers, desc="held non-digits", whole=True
    )
    return concat(raw, photos), checks
