"""Where a render's strokes truly are, against what the transform kept of them: recall and precision."""

from __future__ import annotations

from dataclasses import astuple, dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Overlap:
    """True stroke pixels, how many of them were kept; kept pixels, how many of them lie on or by a stroke."""

    strokes: int = 0
    strokes_kept: int = 0
    kept: int = 0
    kept_on_strokes: int = 0

    def __add__(self, other: Overlap) -> Overlap:
        return Overlap(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    @property
    def recall(self) -> float:
        return self.strokes_kept / self.strokes if self.strokes else 1.0

    @property
    def precision(self) -> float:
        return self.kept_on_strokes / self.kept if self.kept else 0.0


TOLERANCE = 0.01
"""A kept pixel within this fraction of the image's long side (at least 1 px) of a stroke is the stroke's: a blurred edge is no miss."""


def overlap(strokes: NDArray[np.float32], kept: NDArray[np.bool_]) -> Overlap:
    """How well ``kept`` (a mask of any size over the whole photo) matches ``strokes`` (the pen's
    coverage on the photo's pixels): the true strokes are where the pen covers at least half of
    a pixel, laid on the mask's grid."""
    truth = cv2.resize(strokes, (kept.shape[1], kept.shape[0]), interpolation=cv2.INTER_LINEAR) >= 0.5
    reach = max(1, round(TOLERANCE * max(kept.shape)))
    near = cv2.dilate(truth.view(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)).view(np.bool_)
    return Overlap(int(truth.sum()), int((truth & kept).sum()), int(kept.sum()), int((kept & near).sum()))
