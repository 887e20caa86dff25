"""``memory``: the per-person memory of corrections (``model.reading.memory``) with the thresholds on
the model's card: what one correction of a sure misread fixes, what a memory of ordinary digits
leaves alone, what a person teaching it nonsense does to their answers and to nobody else's, its cost."""

from __future__ import annotations

import argparse
import io
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from model.data import sets
from model.data.styles import STYLES, draw
from model.learning.memory_calibration import shapes
from model.reading.memory import Memory, Shape, recall
from model.reading.predictor import Predictor
from scripts.bench.common import mnist_test, timed, unit_vectors, with_model

SURE = 0.8


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("memory", help="per-person memory: what it fixes, what it leaves alone, its cost"))
    parser.add_argument("--photos", type=int, default=2000, help="photo-like digits read as a person with a memory")
    parser.add_argument("--misreads", type=int, default=20, help="sure misreads corrected, one person each")
    parser.add_argument("--again", type=int, default=20, help="new photos of each corrected digit")
    parser.set_defaults(run=run)


ZOOM = 1.2
"""The first photo is of the page's middle (the camera 1.2x nearer than the page's own render), so that a
photo 0.85x as near still shows page, not a border the first photo did not have."""


def shot(page: bytes | Image.Image, zoom: float, angle: float, quality: int) -> bytes:
    """A photo of ``page``: the camera ``zoom`` times nearer, turned by ``angle`` degrees about the middle."""
    image = np.asarray((Image.open(io.BytesIO(page)) if isinstance(page, bytes) else page).convert("RGB"))
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    moved = cv2.warpAffine(image, turn, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    buffer = io.BytesIO()
    Image.fromarray(moved).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def again(page: bytes | Image.Image, rng: np.random.Generator) -> bytes:
    """The same page photographed again: scale 0.85-1.15 of the first photo, up to 8 degrees, JPEG 70-90."""
    return shot(page, ZOOM * rng.uniform(0.85, 1.15), rng.uniform(-8, 8), int(rng.integers(70, 91)))


def sure_misreads(predictor: Predictor, images: np.ndarray, labels: np.ndarray, wanted: int) -> list[tuple[bytes | Image.Image, Shape]]:
    """Pages whose first photo is read as one digit, wrongly and surely (>= 80%): photo-like MNIST test
    digits and drawn styles, with the shape as the person's correction leaves it."""
    found: list[tuple[bytes | Image.Image, Shape]] = []
    rng = np.random.default_rng(4040)
    pages = [(s.photo, int(s.label)) for s in sets.photos(images, labels, 3000, seed=sets.SEED + 3)]
    pages += [(draw(name, rng), int(label)) for name, (label, _) in STYLES.items() for _ in range(60)]
    for page, label in pages:
        reading = predictor.predict(shot(page, ZOOM, 0.0, 90))
        if len(reading.items) == 1 and reading.items[0].digit != label and reading.confidence >= SURE:
            item = reading.items[0]
            found.append((page, Shape(item.vector, item.probabilities, label)))
            if len(found) == wanted:
                break
    return found


def one_correction(args: argparse.Namespace, predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> None:
    misreads = sure_misreads(predictor, images, labels, args.misreads)
    rng = np.random.default_rng(5)
    mine = others = total = 0
    for page, corrected in misreads:
        memory = Memory.of([corrected])
        for _ in range(args.again):
            photo = again(page, rng)
            mine += predictor.predict(photo, memory).number == str(corrected.label)
            others += predictor.predict(photo).number == predictor.predict(photo, Memory.empty()).number
            total += 1
    print(
        f"one correction of a sure misread ({len(misreads)} digits read wrong at >= {SURE:.0%}, each photographed again "
        f"{args.again} times: scale 0.85-1.15, up to 8 degrees, JPEG 70-90):"
    )
    print(f"  read right for that person {mine}/{total} = {mine / max(1, total):.1%}; another person's answers unchanged {others}/{total}")


def run(args: argparse.Namespace) -> None:
    predictor = Predictor.load(args.model)
    images, labels = mnist_test(args)
    print(f"model {predictor.version}, memory {predictor.memory}")

    def remembered(photos: list[tuple[bytes | Image.Image, int]]) -> Memory:
        """What a person's corrections leave: each photo's one digit with the label they gave."""
        return Memory.of(shapes(predictor, photos, "corrections"))

    def right(photos: Sequence[tuple[bytes | Image.Image, str]], memory: Memory | None) -> int:
        return sum(predictor.predict(p, memory).number == label for p, label in photos)

    one_correction(args, predictor, images, labels)
    rng = np.random.default_rng(2026)
    for style in ("square-9", "open-top-4", "continental-1"):
        label = STYLES[style][0]
        corrected = remembered([(draw(style, rng), int(label)) for _ in range(3)])
        nxt = [(draw(style, rng), label) for _ in range(50)]
        print(f"{style}: after 3 corrections, next 50 read right: {right(nxt, corrected)} (another person: {right(nxt, Memory.empty())})")
    ordinary = remembered([(s.photo, int(s.label)) for s in sets.photos(images, labels, 100, seed=sets.SEED + 1)])
    test = [(s.photo, s.label) for s in sets.photos(images, labels, args.photos)]
    plain, mine = right(test, None), right(test, ordinary)
    print(f"photo-like set ({len(test)}), read as a person with {len(ordinary)} corrections of ordinary digits: {plain} -> {mine} right")
    ones = [(s.photo, s.label) for s in sets.photos(images, labels, 400, seed=sets.SEED + 2) if s.label == "1"]
    liar = remembered([(p, 7) for p, _ in ones[:20]])
    rest = ones[20:]
    sevens = sum(predictor.predict(p, liar).number == "7" for p, _ in rest)
    others = len(rest) - right(rest, None)
    print(f"a person who 'corrects' 20 ones to 7: {sevens} of their next {len(rest)} ones read as 7; another person's: {others} misread")
    big = Memory(np.arange(10000, dtype=np.int64), rng.integers(0, 10, 10000), unit_vectors(rng, 10000))
    query = unit_vectors(rng, 1)[0]
    per_digit = timed(lambda: recall(query, big, predictor.memory), 2000)
    print(f"look-up among 10,000 remembered digits: {per_digit:.3f} ms per digit (median of 2,000)")
