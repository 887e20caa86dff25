"""A stage of the transform made the way torchvision's ``transforms.v2`` makes one: a callable built
from its frozen, validated parameters.

Each stage takes what the stage before it made and returns a typed record (or a ``NoDigit``
reason), so :class:`~model.reading.transform.pipeline.DigitTransform` reads as the stages in
order, and a stage can be run, printed and tested on its own.
"""

from __future__ import annotations

from typing import Generic, TypeVar

P = TypeVar("P")


class Stage(Generic[P]):
    def __init__(self, params: P) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
