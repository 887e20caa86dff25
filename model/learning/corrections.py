"""Fine-tune on user corrections, safely: curate, rebuild inputs, train, and gate.

Corrections are the most valuable data the bot gets and the easiest to poison, so they
pass three guards before training (a cap per user, conflicting labels resolved or
dropped, corrections that contradict a very confident model weighed down and reported)
and the candidate model must pass a gate against the current one before promotion.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from model.data.digits import Digits
from model.data.strips import Strips
from model.learning.fit import FitConfig, fit
from model.learning.network import DigitNet
from model.reading.transform import DigitTransform, ImageError


@dataclass(frozen=True)
class LabelledPhoto:
    """One user correction as training sees it: the original photo (a file, read when needed) and what it really shows."""

    photo: Path
    photo_sha256: str
    label: str
    user_id: int
    predicted: str
    confidence: float


@dataclass(frozen=True)
class Guards:
    per_user_cap: int = 200
    per_user_share: float = 0.3
    agreement: float = 2 / 3
    confident: float = 0.99
    confident_weight: float = 0.25
    distrust_share: float = 0.5
    distrust_min: int = 5
    held_out: float = 0.2


@dataclass
class Curation:
    kept: list[LabelledPhoto] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    capped: int = 0
    conflicts_resolved: int = 0
    conflicts_dropped: int = 0
    suspicious: list[LabelledPhoto] = field(default_factory=list)
    distrusted_users: list[int] = field(default_factory=list)


def contradicts(item: LabelledPhoto, guards: Guards) -> bool:
    """The user says the model was wrong where it was very sure: sometimes true, often a red flag."""
    return item.predicted != item.label and item.confidence >= guards.confident


def curate(corrections: list[LabelledPhoto], guards: Guards) -> Curation:
    """Apply the poisoning guards in order: distrust, then the cap, then the vote, so a flood
    cannot win a vote.

    A user most of whose corrections contradict a very confident model (random or
    malicious labels look exactly like that) is set aside whole; other contradicting
    corrections are kept, reported and weighed down.
    """
    result = Curation(distrusted_users=_distrusted(corrections, guards))
    trusted = [c for c in corrections if c.user_id not in result.distrusted_users]
    by_photo: dict[str, list[LabelledPhoto]] = defaultdict(list)
    for item in reversed(_capped(trusted, guards, result)):
        by_photo[item.photo_sha256].append(item)
    for votes in by_photo.values():
        _vote(votes, guards, result)
    return result


def _distrusted(corrections: list[LabelledPhoto], guards: Guards) -> list[int]:
    mine: dict[int, list[LabelledPhoto]] = defaultdict(list)
    for item in corrections:
        mine[item.user_id].append(item)
    distrusted = []
    for user, items in mine.items():
        against = sum(contradicts(i, guards) for i in items)
        if against >= guards.distrust_min and against / len(items) > guards.distrust_share:
            distrusted.append(user)
    return distrusted


def _capped(corrections: list[LabelledPhoto], guards: Guards, result: Curation) -> list[LabelledPhoto]:
    """At most the cap per user, newest first: a user's latest corrections are kept."""
    cap = min(guards.per_user_cap, max(10, int(guards.per_user_share * len(corrections))))
    per_user: dict[int, int] = Counter()
    capped: list[LabelledPhoto] = []
    for item in reversed(corrections):
        if per_user[item.user_id] >= cap:
            result.capped += 1
            continue
        per_user[item.user_id] += 1
        capped.append(item)
    return capped


def _vote(votes: list[LabelledPhoto], guards: Guards, result: Curation) -> None:
    """One photo's corrections: the label enough of them agree on is kept, weighed down where it
    contradicts a very confident model; without enough agreement, none."""
    labels = Counter(v.label for v in votes)
    label, count = labels.most_common(1)[0]
    if len(labels) > 1:
        if count / len(votes) < guards.agreement:
            result.conflicts_dropped += 1
            return
        result.conflicts_resolved += 1
    chosen = next(v for v in votes if v.label == label)
    weight = 1.0
    if contradicts(chosen, guards):
        result.suspicious.append(chosen)
        weight = guards.confident_weight
    result.kept.append(chosen)
    result.weights.append(weight)


def is_held_out(item: LabelledPhoto, share: float) -> bool:
    """A stable split by photo: the same photo is always on the same side, across runs."""
    return int(hashlib.sha256(item.photo_sha256.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


@dataclass(frozen=True)
class CorrectionDigits:
    digits: Digits
    weights: NDArray[np.float32]
    skipped: int


def rebuild(items: list[LabelledPhoto], weights: list[float], transform: DigitTransform) -> CorrectionDigits:
    """Model inputs from the original photos through the *current* transform.

    A number whose segmentation finds as many digits as the label has gives one sample
    per digit; a one-digit label takes all the ink as that digit; anything else is
    skipped (the user's label cannot be matched to the shapes).
    """
    pixels: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    out_weights: list[float] = []
    skipped = 0
    for item, weight in zip(items, weights, strict=True):
        try:
            photo = item.photo.read_bytes()
            crops = transform(photo).crops
            if len(crops) != len(item.label) and len(item.label) == 1:
                crops = transform(photo, single=True).crops
        except (ImageError, OSError):
            crops = ()
        if len(crops) != len(item.label):
            skipped += 1
            continue
        for crop, char in zip(crops, item.label, strict=True):
            for view in (crop.pixels, crop.solid):  # both views, consecutive, as training has them
                pixels.append(np.round(view * 255).astype(np.uint8))
                labels.append(int(char))
                out_weights.append(weight)
    stacked = np.stack(pixels) if pixels else np.zeros((0, 28, 28), np.uint8)
    return CorrectionDigits(Digits(stacked, np.asarray(labels, dtype=np.int64)), np.asarray(out_weights, dtype=np.float32), skipped)


def number_strips(items: list[LabelledPhoto], weights: list[float], transform: DigitTransform, boost: float) -> Strips:
    """The corrected numbers (two digits or more) as the number reader sees them, each photo's strip with
    its label, repeated ``boost`` times its weight (at least once): what the number reader is fine-tuned on."""
    pixels: list[NDArray[np.uint8]] = []
    labels: list[str] = []
    for item, weight in zip(items, weights, strict=True):
        if len(item.label) < 2:
            continue
        try:
            strip = transform.strip(item.photo.read_bytes())
        except (ImageError, OSError):
            strip = None
        if strip is None:
            continue
        for _ in range(max(1, round(boost * weight))):
            pixels.append(np.round(strip.pixels * 255).astype(np.uint8))
            labels.append(item.label)
    return Strips(pixels, labels)


def fine_tune(
    current: DigitNet,
    corrections: CorrectionDigits,
    replay: Digits,
    transform: DigitTransform,
    config: FitConfig,
    boost: float = 4.0,
) -> DigitNet:
    """Start from the current weights; corrections are oversampled ``boost`` times against replay digits."""
    candidate = copy.deepcopy(current)
    data = Digits(
        np.concatenate([corrections.digits.pixels, replay.pixels]),
        np.concatenate([corrections.digits.labels, replay.labels]),
    )
    weights = np.concatenate([corrections.weights * boost, np.ones(len(replay.labels), dtype=np.float32)])
    fit(candidate, data, transform, config, weights=weights)
    return candidate.eval()
