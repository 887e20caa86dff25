"""MNIST as the model sees it: every digit goes through the shared transform first.

Two views of each training digit: the raw MNIST image (white on black) and a photo-like
render of it (``model.render``). Both reach the network only through
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

from model.network import NOT_A_DIGIT
from model.render import Look, photo_of
from model.shapes import non_digits
from model.transform import DigitTransform, TransformParams

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


def _job(args: tuple[U8, int, bool, int, dict[str, Any]]) -> U8 | None:
    image, index, photo, seed, params = args
    transform = DigitTransform(TransformParams.from_dict(params))
    if image.ndim == 3:
        return _joined(transform, image, seed, index)
    source = photo_of([image], seed, index) if photo else Image.fromarray(image, mode="L")
    crops = transform.segment(source, single=True).crops
    if not crops:
        return None
    return np.round(crops[0].pixels * 255).astype(np.uint8)


def _joined(transform: DigitTransform, pair: U8, seed: int, index: int) -> U8 | None:
    """Two digits written side by side, as the predictor offers them to the network: joined into one crop.

    Only where the transform found exactly the two digits and offered them joined; the
    look is one where each digit is whole (no gaps, nothing cut by the frame), so the
    crop surely holds two digits.
    """
    rng = np.random.default_rng((seed, index))
    look = replace(Look.sample(rng), gaps=False, framing="page", tiny=False)
    segmentation = transform.segment(photo_of(list(pair), seed, index, look))
    if len(segmentation.crops) != 2 or segmentation.pairs[0] is None:
        return None
    return np.round(segmentation.pairs[0].pixels * 255).astype(np.uint8)


def transform_digits(
    images: U8,
    labels: NDArray[np.int64],
    params: TransformParams,
    photo: bool,
    seed: int,
    workers: int = 2,
    desc: str = "transform",
) -> Digits:
    """Run every digit (or its photo render) through the shared transform, in parallel.

    ``images`` is (N, 28, 28), or (N, 2, 28, 28) for two digits side by side joined into one crop.
    A digit in which the transform finds no ink is dropped; that happens for a handful of
    renders where the pen was too faint to see, which is the right answer for them too.
    """
    jobs = ((images[i], i, photo, seed, params.to_dict()) for i in range(len(images)))
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
        shapes[half:count], labels[half:count], params, photo=True, seed=seed + 3, workers=workers, desc="non-digit photos"
    )
    checks = transform_digits(shapes[count:], labels[count:], params, photo=True, seed=seed + 4, workers=workers, desc="held non-digits")
    return concat(raw, photos), checks


def side_by_side(images: U8, count: int, params: TransformParams, seed: int, workers: int = 2) -> Digits:
    """Two digits side by side, joined into one crop, labelled "not a digit" (fewer than ``count``:
    pairs the transform does not offer joined are skipped).

    The predictor asks the network whether two neighbouring shapes are one digit in
    pieces (an open 4) or two digits; a crop holding two digits must not pass for one.
    """
    rng = np.random.default_rng((seed, 11))
    pairs = images[rng.integers(0, len(images), (count, 2))]
    labels = np.full(count, NOT_A_DIGIT, dtype=np.int64)
    return transform_digits(pairs, labels, params, photo=True, seed=seed + 5, workers=workers, desc="two digits as one")
