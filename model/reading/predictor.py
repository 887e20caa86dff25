"""Load a model once, read digits from photos: the only door the bot has into the model.

``Predictor.predict`` takes bytes or a PIL image and returns a :class:`Reading`. It is
safe to call from several threads at once: the network is in eval mode, inference
mutates nothing, and each call batches the digits of its own photo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from model.reading import graphs, registry
from model.reading.classes import NOT_A_DIGIT
from model.reading.graphs import Batch, DigitRun, softmax
from model.reading.memory import DIMS, Memory, MemoryParams, Recalled, Vectors, recall
from model.reading.number_reader import NumberReader, StripReading
from model.reading.orientation import NINE, SIX, UPRIGHT, Orientation, mix, turned_back
from model.reading.transform import Box, DigitCrop, DigitTransform, ImageError, NoDigit, Segmentation, TransformParams, Unreadable

__all__ = ["Candidate", "DigitReading", "ImageError", "NoDigit", "Predictor", "Reading", "Unreadable"]

REJECT_BELOW = 0.3
"""When every shape in a photo is read with less than this calibrated confidence, no digit is reported.

Models with the "not a digit" output also drop each shape that output wins; older
10-class models (still loadable for rollback) rely on this threshold alone."""


@dataclass(frozen=True)
class Candidate:
    digit: int
    p: float


@dataclass(frozen=True)
class DigitReading:
    """One digit: the answer, its calibrated probability, the runners-up, and what the model saw.

    ``vector`` is the shape as the person's memory keeps it; ``recalled`` is set when that
    memory, not the network, chose ``digit`` (``confidence`` is then the memory's measured
    precision, and ``top`` still the network's own reading)."""

    digit: int
    confidence: float
    top: tuple[Candidate, ...]
    box: Box
    pixels: NDArray[np.float32]
    vector: Vectors
    probabilities: NDArray[np.float32]
    """The network's calibrated probability of each digit 0-9."""
    recalled: Recalled | None = None


@dataclass(frozen=True)
class Reading:
    """What the model read in one photo; ``items`` is empty and ``reason`` set when there is no digit."""

    items: tuple[DigitReading, ...]
    model_version: str
    reason: NoDigit | None = None
    set_aside: tuple[Box, ...] = ()
    """Where the shapes were that the network judged "not a digit" (a doodle beside a number)."""
    whole_string: float | None = None
    """For a number the number reader read: its probability of the whole string, which also
    counts a digit too many or too few. None where digits were read one shape at a time."""
    turned: bool = False
    """The one shape read lay on its side: it was read turned back upright."""

    @property
    def number(self) -> str:
        """The digits read, in order ("" for none)."""
        return "".join(str(item.digit) for item in self.items)

    @property
    def confidence(self) -> float:
        """Probability that the whole reading is right: the number reader's for the whole string, else
        the product over the digits."""
        if not self.items:
            return 0.0
        return self.whole_string if self.whole_string is not None else float(np.prod([item.confidence for item in self.items]))

    @property
    def least_sure(self) -> DigitReading | None:
        return min(self.items, key=lambda item: item.confidence) if self.items else None


@dataclass(frozen=True)
class _Span:
    """One hypothesis for one digit: the crop, the network's probabilities for it, its memory vector."""

    crop: DigitCrop
    row: Batch
    vector: Vectors


class Predictor:
    def __init__(
        self,
        network: DigitRun,
        transform: DigitTransform,
        temperature: float,
        version: str,
        memory: MemoryParams | None = None,
        numbers: NumberReader | None = None,
        orientation: Orientation | None = None,
    ) -> None:
        self.network = network
        self.rejects = network.classes > NOT_A_DIGIT
        """Has the "not a digit" output; versions before it (10 outputs) stay loadable for rollback."""
        self.numbers = numbers
        self.orientation = orientation
        self.transform = transform
        self.temperature = temperature
        self.version = version
        self.memory = memory or MemoryParams()

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """A version's ONNX exports and card, from a registry directory (its current version) or a
        ``.safetensors`` file; :class:`registry.NotExported` names the command for a version without them."""
        weights, card = registry.read_card(Path(path))
        run = graphs.load(weights, card)
        params = TransformParams.from_dict(card.get("transform", {}))
        version = str(card.get("version") or weights.stem)  # a card without a version: the file names it
        memory = MemoryParams.from_dict(card.get("memory", {}))
        numbers = NumberReader.from_card(run.numbers, card["numbers"]) if run.numbers is not None else None
        orientation = Orientation.from_card(run.orientation, card["orientation"]) if run.orientation is not None else None
        return cls(run.digits, DigitTransform(params), float(card.get("temperature", 1.0)), version, memory, numbers, orientation)

    def _forward(self, batch: Batch) -> tuple[Batch, Vectors]:
        """Calibrated class probabilities for a normalized batch, and each input's memory vector."""
        logits, vectors = self.network(batch)
        return softmax(logits / np.float32(self.temperature), axis=1), vectors

    def _read(self, crops: list[DigitCrop]) -> tuple[Batch, Vectors]:
        """Each crop's probabilities, the mean over its two views (grey and solid), and its memory
        vector (of the grey view, the one the bot stores)."""
        probs, vectors = self._forward(self.transform.views(crops))
        count = len(crops)
        return (probs[:count] + probs[count:]) / np.float32(2), vectors[:count]

    def embed(self, inputs: NDArray[np.uint8]) -> Vectors:
        """Memory vectors of stored 28x28 model inputs (0-255): a correction's digits, or ones kept
        under an older model, recomputed for this one."""
        batch = inputs.reshape(-1, 1, 28, 28).astype(np.float32) / np.float32(255)
        return self._forward(self.transform.normalize(batch))[1]

    def predict(self, image: bytes | Image.Image, memory: Memory | None = None) -> Reading:
        """Read the digits in a photo; raises :class:`ImageError` when it is not a readable image.

        All readings the transform offers (each shape alone, neighbours as one digit, the
        whole frame as one digit), each in two views, go to the network in one batch; a digit's
        probabilities are the mean of its views, and the most probable split wins. Where the
        whole frame reads as a digit beside a reading of at most one digit, the two are averaged:
        a photo its hypotheses read differently is not read surely. With a person's ``memory``
        (made by this model), each digit read is then checked against it (``model.reading.memory``).
        """
        segmentation = self.transform(image)
        number = self._read_number(segmentation)
        if number is not None:
            return self._number(segmentation, number, memory)
        whole = segmentation.whole
        singles = list(segmentation.crops)
        joined = {i: pair for i, pair in enumerate(segmentation.pairs) if pair is not None}
        batch = [*singles, *joined.values(), *([whole] if whole is not None else [])]
        if not batch:
            return Reading(items=(), model_version=self.version, reason=segmentation.reason)
        probs, vectors = self._read(batch)
        row_of = {(i, 1): i for i in range(len(singles))} | {(i, 2): len(singles) + n for n, i in enumerate(joined)}
        rows = {key: probs[index] for key, index in row_of.items()}
        spans = [
            _Span(singles[start] if length == 1 else joined[start], rows[start, length], vectors[row_of[start, length]])
            for start, length in self._best_split(rows)
        ]
        if whole is not None and sum(self._digit(span.row) for span in spans) <= 1:  # one digit in pieces, or none found
            spans = self._with_whole(spans, _Span(whole, probs[-1], vectors[-1]))
        spans, turned = self._lone_oriented(spans)
        items = [self._item(span) for span in spans]
        digits = [item for item in items if item is not None]
        set_aside = tuple(span.crop.box for span, item in zip(spans, items, strict=True) if item is None)
        if not digits or max(item.confidence for item in digits) < REJECT_BELOW:
            reason = segmentation.reason or NoDigit.NOT_A_DIGIT
            return Reading(items=(), model_version=self.version, reason=reason, set_aside=set_aside)
        if memory is not None and memory.version in ("", self.version):  # vectors of another model mean nothing here
            digits = [self._recall(item, memory) for item in digits]
        return Reading(items=tuple(digits), model_version=self.version, set_aside=set_aside, turned=turned)

    def _read_number(self, segmentation: Segmentation) -> StripReading | None:
        """The number reader's reading of the main line of writing, where it reads two digits or more
        and the photo is not one digit after all."""
        if self.numbers is None or segmentation.strip is None:
            return None
        number = self.numbers.read(segmentation.strip.pixels)
        return number if len(number.digits) > 1 and not self._alone(segmentation, number.confidence) else None

    def _alone(self, segmentation: Segmentation, number: float) -> bool:
        """Is the photo one digit, whatever the number reader makes of it? Where segmentation finds one
        shape, no wider than tall (as a digit is, and two digits side by side are not) or lying on its
        side, and the digit network is surer of it as one digit than the number reader is of its
        string (a 1's long flag taken for a second 1), one digit is the likelier reading. A lying 6 is a 9
        lying the other way: turned, the shape is one digit with what the two share between them (``mix``)."""
        if len(segmentation.crops) != 1:
            return False
        crop = segmentation.crops[0]
        probs, vectors = self._read([crop])
        span, turned = self._oriented(_Span(crop, probs[0], vectors[0]))
        x0, y0, x1, y1 = crop.box
        if x1 - x0 > y1 - y0 and not turned:
            return False
        one = float(span.row[:NOT_A_DIGIT].max())
        if turned:
            one = max(one, float(span.row[SIX] + span.row[NINE]))
        return self._digit(span.row) and one > number

    def _lone_oriented(self, spans: list[_Span]) -> tuple[list[_Span], bool]:
        """A lone shape read over the ways it may lie (``_oriented``); several are read as they stand."""
        if len(spans) != 1:
            return spans, False
        span, turned = self._oriented(spans[0])
        return [span], turned

    def _oriented(self, span: _Span) -> tuple[_Span, bool]:
        """A lone shape read over the ways it may lie (``model.reading.orientation``): its reading
        weighed over them, and, where it likeliest lies on its side, the shape turned back upright. A
        network without the "not a digit" output reads upright only: a lying 1 would have nowhere to go."""
        if self.orientation is None or not self.rejects:
            return span, False
        weights = self.orientation.probabilities(self.transform.views([span.crop]))[0]
        backs = [turned_back(span.crop, turn) for turn in range(1, len(weights))]
        probs, vectors = self._read(backs)
        row = mix(weights, np.concatenate([span.row[None], probs]))
        likeliest = int(weights.argmax())
        if likeliest == UPRIGHT:
            return replace(span, row=row), False
        return _Span(backs[likeliest - 1], row, vectors[likeliest - 1]), True

    def _number(self, segmentation: Segmentation, number: StripReading, memory: Memory | None) -> Reading:
        """A number the number reader read: each digit placed where it read it, cut out there for the
        memory (and for "what I saw"), its probabilities the number reader's."""
        strip = segmentation.strip
        assert strip is not None
        crops = [segmentation.cut(d.span) for d in number.digits]
        present = [crop for crop in crops if crop is not None]
        vectors = iter(self._read(present)[1]) if present else iter(())
        blank = np.zeros((self.transform.params.crop.canvas,) * 2, np.float32)
        items = []
        for d, crop in zip(number.digits, crops, strict=True):
            order = np.argsort(d.probabilities)[::-1][:3]
            top = tuple(Candidate(int(k), round(float(d.probabilities[k]), 4)) for k in order)
            pixels, vector = (crop.pixels, next(vectors)) if crop is not None else (blank, np.zeros(DIMS, np.float32))
            items.append(
                DigitReading(d.digit, float(d.probabilities[d.digit]), top, strip.photo_box(d.span), pixels, vector, d.probabilities)
            )
        reading = Reading(tuple(items), self.version, set_aside=self._left_over(segmentation, len(items)), whole_string=number.confidence)
        if memory is None or memory.version not in ("", self.version):
            return reading
        recalled = tuple(self._recall(item, memory) for item in reading.items)
        changed = any(new is not old for new, old in zip(recalled, reading.items, strict=True))
        return replace(reading, items=recalled, whole_string=None) if changed else reading

    def _left_over(self, segmentation: Segmentation, digits: int) -> tuple[Box, ...]:
        """Where segmentation found more shapes than the number has digits, those the digit network
        judges "not a digit": shown set aside, as the digit-by-digit way shows a doodle it left out."""
        crops = list(segmentation.crops)
        if len(crops) <= digits or not self.rejects:
            return ()
        rows = self._read(crops)[0]
        return tuple(crop.box for crop, row in zip(crops, rows, strict=True) if not self._digit(row))

    def _with_whole(self, spans: list[_Span], whole: _Span) -> list[_Span]:
        """Is the whole frame one digit? Where it reads as one: alone where no shape was read as a digit;
        beside the one digit read, the two hypotheses' mean, placed where the one that gives its digit
        more saw it."""
        if not self._digit(whole.row):  # the whole frame is no digit: a shadow's or a page's edge split off
            return spans
        digit = next((i for i, span in enumerate(spans) if self._digit(span.row)), None)
        if digit is None:
            return [whole]
        one = spans[digit]
        mean = (one.row + whole.row) / np.float32(2)
        best = int(mean[:NOT_A_DIGIT].argmax())
        if float(whole.row[best]) > float(one.row[best]):
            return [replace(whole, row=mean)]
        return [*spans[:digit], replace(one, row=mean), *spans[digit + 1 :]]

    def _item(self, span: _Span) -> DigitReading | None:
        """One shape's reading, or None where the "not a digit" output wins (a doodle beside a number is left out)."""
        crop, row, vector = span.crop, span.row, span.vector
        if not self._digit(row):
            return None
        digits = np.argsort(-row[:NOT_A_DIGIT], kind="stable")[:3]
        top = tuple(Candidate(int(d), round(float(row[d]), 4)) for d in digits)
        return DigitReading(top[0].digit, float(row[digits[0]]), top, crop.box, crop.pixels, vector, probabilities=row[:NOT_A_DIGIT].copy())

    def _recall(self, item: DigitReading, memory: Memory) -> DigitReading:
        recalled = recall(item.vector, memory, self.memory)
        if recalled is None or recalled.label == item.digit:
            return item
        return replace(item, digit=recalled.label, confidence=self.memory.precision, recalled=recalled)

    def _best_split(self, rows: dict[tuple[int, int], Batch]) -> list[tuple[int, int]]:
        """The most probable reading of the shapes, left to right, as (start, length) spans.

        Each shape is read alone (a digit, or "not a digit" and left out), or, where the
        transform offered it, together with its right neighbour as one digit: an open 4
        is one digit, not "61". A reading's probability is the product over its spans, so
        two pieces become one digit where the network is surer of that digit than of both
        pieces at once, and always where neither piece is a digit by itself (the two arcs
        of a broken 0 are not two doodles).
        """
        count = sum(length == 1 for _, length in rows)
        best: list[tuple[float, list[tuple[int, int]]]] = [(1.0, [])]
        for end in range(1, count + 1):
            choice = (best[end - 1][0] * self._score(rows[end - 1, 1]), [*best[end - 1][1], (end - 1, 1)])
            together = rows.get((end - 2, 2))
            if together is not None and self._digit(together):
                pieces = not self._digit(rows[end - 2, 1]) and not self._digit(rows[end - 1, 1])
                joined = best[end - 2][0] * (1.0 if pieces else float(together[:NOT_A_DIGIT].max()))
                if joined > choice[0]:
                    choice = (joined, [*best[end - 2][1], (end - 2, 2)])
            best.append(choice)
        return best[count][1]

    def _score(self, row: Batch) -> float:
        """How sure the network is of its reading of one shape, digit or "not a digit"."""
        return float(row.max() if self.rejects else row[:NOT_A_DIGIT].max())

    def _digit(self, row: Batch) -> bool:
        return not self.rejects or int(row.argmax()) != NOT_A_DIGIT
