"""Ink a person sees is ink the network sees: stroke recall and precision of the transform, per kind of photo.

The renderer knows where its strokes are (``Rendered.overlap``). Laid on the transform's
working image, the true strokes are the pixels the pen covers at least half; the transform
keeps the digits' own pixels (what the solid view shows as full ink). Recall is
the share of true stroke pixels kept; precision the share of kept pixels within a pixel or
two of a true stroke (a blurred edge is not a miss). Both are pooled over a kind's photos.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from model.data.render import Look, render
from model.data.truth import Overlap
from model.reading.transform import DigitTransform

KINDS: dict[str, Look] = {
    "paper": Look(),
    "ruled or squared": Look(lines="ruled"),
    "grey paper, soft pen": Look(ground="grey"),
    "board": Look(ground="board"),
    "screen": Look(ground="screen", shadow="none"),
    "filling the frame": Look(framing="fill"),
    "tight crop": Look(framing="tight"),
    "tiny crop": Look(tiny=True),
    "gaps": Look(gaps=True),
    "hand shadow": Look(shadow="tinted"),
    "table beyond the page": Look(page_edge=True),
    "uneven pressure": Look(pressure=True),
    "faint pen": Look(faint=True),
    "faint thin pen, grey paper, small photo": Look(ground="grey", faint=True, tiny=True),
}
"""Every failure kind the renderer draws, and the combination real photos lost most to."""
SEED = 4242


@dataclass(frozen=True)
class StrokeScore:
    kind: str
    recall: float
    precision: float
    photos: int


def score_kind(transform: DigitTransform, kind: str, digits: NDArray[np.uint8], seed: int = SEED) -> StrokeScore:
    """Recall and precision pooled over one render of each digit in the kind's look."""
    pooled = Overlap()
    for i, digit in enumerate(digits):
        rendered = render([digit], np.random.default_rng((seed, i)), KINDS[kind])
        pooled += rendered.overlap(transform.kept_ink(rendered.image))
    return StrokeScore(kind, pooled.recall, pooled.precision, len(digits))


def score_kinds(transform: DigitTransform, digits: NDArray[np.uint8], seed: int = SEED) -> Iterator[StrokeScore]:
    for kind in tqdm(KINDS, desc="stroke recall", unit="kind"):
        yield score_kind(transform, kind, digits, seed)
