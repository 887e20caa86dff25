"""Retraining from corrections as one function driven by one config: what ``scripts.retrain`` runs.

Curate the corrections (poisoning guards), rebuild their model inputs through the current
transform, fine-tune the current model on them with MNIST, photo and non-digit replay,
read the named benchmark sets, held-out correction photos and (when a folder is given) real
photos with both models through ``Predictor.predict`` (``gate``, then ``decide``), and promote
only what the gate allows: a new registry version whose memory threshold is calibrated for it,
then ``current`` moved atomically.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.data import sets
from model.data.digits import Digits, concat, drawn_sets, load_mnist, transform_digits
from model.data.strips import Strips, make_strips
from model.judging.evaluation import Report
from model.judging.gate import Rules, Verdict, gate
from model.judging.plots import pyplot
from model.learning import served, versions
from model.learning.corrections import (
    CorrectionDigits,
    Curation,
    Guards,
    LabelledPhoto,
    curate,
    fine_tune,
    is_held_out,
    number_strips,
    rebuild,
)
from model.learning.fit import FitConfig, Stopwatch, reproducible, temperature_for
from model.learning.memory_calibration import ORDINARY, PER_STYLE, calibrate_model
from model.learning.network import DigitNet
from model.learning.number_fit import NumberFitConfig, fit_numbers, fit_temperature
from model.learning.number_net import NumberNet
from model.learning.train import VALIDATION, TrainConfig
from model.reading import registry
from model.reading.number_reader import NumberReader
from model.reading.predictor import Predictor
from model.reading.transform import DigitTransform, TransformParams


@dataclass(frozen=True)
class RetrainConfig:
    """Every size and seed of a retraining run (the gate's levels and margins are ``model.judging.gate``'s)."""

    models: Path
    data_root: str = "data"
    download: bool = True
    dry_run: bool = False
    rules: Rules = field(default_factory=Rules)
    """The gate's level and practical margins (``model.judging.gate``)."""
    epochs: int = 3
    replay: int = 6000
    photos: int = 6000
    """Photo-like renders of the replayed digits (all of them): fewer (4,000) let the photo-like set slip 0.2 points
    on `scripts.bench retrain`."""
    non_digits: int = 600
    plain: int = 400
    """Lone strokes and rings replayed (half drawn, half photos): the plainest 1s and 0s stay read."""
    test_non_digits: int = 2000
    test: int = 3000
    test_photos: int = 4000
    """Sizes of the gate's sets: ``model.data.sets``'s named benchmarks, which hold their own seeds;
    what each can see is ``model.judging.gate.MARGINS``'s docstring."""
    validation: int = 2000
    """An eighth of this many of the last MNIST training digits (never replayed), as photos, with held-out drawings:
    what the candidate's temperature is fitted on, as training fits it."""
    real: Path | None = None
    """A folder of real photos (``labels.csv``), read by the gate only: a candidate that reads fewer is refused."""
    memory_ordinary: int = ORDINARY
    memory_per_style: int = PER_STYLE
    """The memory's calibration run for the candidate (``model.learning.memory_calibration``)."""
    number_boost: float = 4.0
    """Each corrected number is learned from this many times its weight ..."""
    number_replay: int = 3000
    """... beside this many numbers drawn from MNIST's training digits (``model.data.strips``) ..."""
    number_validation: int = 600
    """... and the number reader's temperature is fitted anew on this many drawn from held-out digits."""
    test_numbers: int = 500
    """Numbers the gate reads (``written``) when the model has a number reader."""
    workers: int = 2
    threads: int = 2
    """Torch's threads: with the seed, what makes two runs on the same corrections give the same weights."""
    report: Path = Path("runs/retrain")
    seed: int = 0
    """Fine-tuning, the replay pick and raw replay/validation renders."""
    replay_photo_seed: int = 7
    validation_photo_seed: int = 2
    non_digit_seed: int = 11
    plain_seed: int = 17


@dataclass(frozen=True)
class Replay:
    """What the candidate rehearses beside the corrections, what its temperature is fitted on, what the gate reads."""

    digits: Digits
    validation: Digits
    gate_sets: dict[str, int]
    counts: dict[str, int]


def run(config: RetrainConfig, corrections: list[LabelledPhoto]) -> Verdict:
    """Curate, rebuild, fine-tune, gate and (when the gate allows and it is not a dry run) promote."""
    clock = Stopwatch()
    reproducible(config.seed, config.threads)
    guards = Guards()
    curation = _curated(corrections, guards)
    state, card = versions.load(config.models)
    current = DigitNet.from_state(versions.part(state, registry.DIGITS)).eval()
    transform = DigitTransform(TransformParams.from_dict(card.get("transform", {})))
    learn, numbers, held_out = _split(curation, guards, transform, config.number_boost)
    if len(learn.digits.labels) == 0 and not numbers.labels:
        print("nothing to learn from: keeping the current model")
        return Verdict(False, ["no usable corrections"], [])
    replay = _replay(config, transform.params, current.rejects)
    fit_config = FitConfig(epochs=config.epochs, max_lr=1e-4, seed=config.seed, freeze_norm=True)
    if len(learn.digits.labels):
        candidate = fine_tune(current, learn, replay.digits, transform, fit_config)
        temperature = temperature_for(candidate, replay.validation, transform)
    else:  # only numbers were corrected: the digit network stays as it is
        candidate, temperature = current, float(card.get("temperature", 1.0))
    number_network = served.number_network(state, card)
    tuned = _numbers(config, number_network, card, numbers, transform.params) if number_network is not None and numbers.labels else None
    reader = tuned[1] if tuned is not None else (served.number_reader(number_network, card) if number_network is not None else None)
    then = served.predictor(candidate, card, "candidate", temperature, reader, served.orientation(state, card))
    gate_sets = replay.gate_sets | ({"written": config.test_numbers} if number_network is not None else {})
    verdict, reports = _judged(config, then, gate_sets, held_out)
    report(verdict, reports, config.report)
    if not verdict.promote:
        print("NOT promoted, keeping " + str(card.get("version")) + ":\n  " + "\n  ".join(verdict.reasons))
        return verdict
    if config.dry_run:
        print("would promote (dry run: nothing written)")
        return verdict
    counts = {"corrections_exported": len(corrections), "corrections_used": len(learn.digits.labels), "held_out": len(held_out)}
    counts |= {"suspicious": len(curation.suspicious), "distrusted_users": len(curation.distrusted_users)} | replay.counts
    counts["number_corrections"] = len(numbers.labels)
    parts = {prefix: versions.part(state, prefix) for prefix in registry.parts_of(card)} | {registry.DIGITS: candidate.state_dict()}
    parts |= {registry.NUMBERS: tuned[0].state_dict()} if tuned is not None else {}
    _promote(config, card, versions.joined(parts), temperature, reader, verdict, counts, clock)
    return verdict


def _judged(
    config: RetrainConfig, candidate: Predictor, gate_sets: dict[str, int], held_out: list[sets.Sample]
) -> tuple[Verdict, dict[str, list[Report]]]:
    """The gate's verdict on the candidate against the model served now, on the fixed sets, the
    held-out corrections and, where given, the real photos."""
    test_x, test_y = load_mnist(config.data_root, train=False, download=config.download)
    fixed = {name: sets.named(name, test_x, test_y, count) for name, count in gate_sets.items()}
    real = sets.real_photos(config.real) if config.real is not None else []
    return gate(Predictor.load(config.models), candidate, fixed, held_out, real, config.rules)


def _curated(corrections: list[LabelledPhoto], guards: Guards) -> Curation:
    curation = curate(corrections, guards)
    print(
        f"corrections: {len(corrections)} exported, {len(curation.kept)} kept; {curation.capped} over the per-user cap, "
        f"{curation.conflicts_resolved} conflicts resolved, {curation.conflicts_dropped} dropped; "
        f"{len(curation.suspicious)} contradict a very confident model (weighed down); "
        f"distrusted users: {curation.distrusted_users or 'none'}"
    )
    return curation


def _split(
    curation: Curation, guards: Guards, transform: DigitTransform, boost: float
) -> tuple[CorrectionDigits, Strips, list[sets.Sample]]:
    """The corrections to learn from, rebuilt through the current transform (as digits, and numbers as
    the number reader's strips), and the photos held out for the gate."""
    held = [is_held_out(item, guards.held_out) for item in curation.kept]
    items = [i for i, h in zip(curation.kept, held, strict=True) if not h]
    weights = [w for w, h in zip(curation.weights, held, strict=True) if not h]
    held_out = [sets.Sample(i.photo.read_bytes(), i.label) for i, h in zip(curation.kept, held, strict=True) if h]
    learn = rebuild(items, weights, transform)
    numbers = number_strips(items, weights, transform, boost)
    print(
        f"model inputs rebuilt through the current transform: {len(learn.digits.labels)} digits and {len(numbers.labels)} number strips"
        f" to learn, {len(held_out)} photos held out"
    )
    return learn, numbers, held_out


def _numbers(
    config: RetrainConfig, current: NumberNet, card: dict[str, Any], corrections: Strips, params: TransformParams
) -> tuple[NumberNet, NumberReader]:
    """The number reader fine-tuned on the corrected numbers with replayed drawn ones, its temperature fitted anew."""
    images, labels = load_mnist(config.data_root, train=True, download=config.download)
    held = len(images) - VALIDATION
    replay = make_strips(
        images[:held], labels[:held], config.number_replay, params, config.seed + 101, workers=config.workers, desc="replay strips"
    )
    validation = make_strips(images[held:], labels[held:], config.number_validation, params, config.seed + 102, workers=config.workers)
    network = copy.deepcopy(current)
    candidate = served.number_reader(network, card)
    data = Strips(corrections.pixels + replay.pixels, corrections.labels + replay.labels)
    fit_numbers(network, data, candidate, NumberFitConfig(epochs=config.epochs, max_lr=2e-4, seed=config.seed, freeze_norm=True))
    candidate.temperature = fit_temperature(candidate, validation)
    return network, candidate


def _replay(config: RetrainConfig, params: TransformParams, rejects: bool) -> Replay:
    """MNIST, photo, lone-stroke and ring replay; validation photos (and drawings), as training calibrates on them."""
    c, workers = config, config.workers
    mnist_x, mnist_y = load_mnist(c.data_root, train=True, download=c.download)
    pick = np.random.default_rng(c.seed).choice(len(mnist_x) - VALIDATION, c.replay, replace=False)
    raw = transform_digits(mnist_x[pick], mnist_y[pick], params, photo=False, seed=c.seed, workers=workers, desc="replay")
    photos = transform_digits(
        mnist_x[pick[: c.photos]], mnist_y[pick[: c.photos]], params, True, c.replay_photo_seed, workers, "replay photos"
    )
    plain, val_plain = drawn_sets("plain", c.plain, 100, params, c.plain_seed, TrainConfig().shape_seen, workers)
    val_x, val_y = mnist_x[-c.validation // 8 :], mnist_y[-c.validation // 8 :]
    validation = concat(transform_digits(val_x, val_y, params, True, c.validation_photo_seed, workers, "validation photos"), val_plain)
    digits, gate_sets = concat(raw, photos, plain), {"mnist": c.test, "photo": c.test_photos}
    if rejects:  # keep the "not a digit" class alive, and make the gate check it
        negatives, val_negatives = drawn_sets("non-digits", c.non_digits, 100, params, c.non_digit_seed, TrainConfig().shape_seen, workers)
        digits, validation = concat(digits, negatives), concat(validation, val_negatives)
        gate_sets["non_digits"] = c.test_non_digits
    counts = {"replay_mnist": len(raw.labels), "replay_photos": len(photos.labels), "replay_plain": len(plain.labels)}
    return Replay(digits, validation, gate_sets, counts)


def _promote(
    config: RetrainConfig,
    card: dict[str, Any],
    weights: dict[str, torch.Tensor],
    temperature: float,
    reader: NumberReader | None,
    verdict: Verdict,
    counts: dict[str, int],
    clock: Stopwatch,
) -> None:
    """A new registry version (the candidate's digit network beside the parent's number reader) with the parent's card,
    the gate's figures and the run's counts; ``current`` moved to it."""
    version = registry.next_version(config.models)
    new_card = dict(card)
    new_card.update(
        version=version,
        parent=card.get("version"),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        temperature=temperature,
        metrics={
            f"gate_{c.name.replace(' ', '_').replace('-', '_')}": {"current": c.current, "candidate": c.candidate, "n": c.count}
            | {"lost": c.lost, "gained": c.gained}
            for c in verdict.comparisons
        },
        data=counts,
        training={"kind": "fine-tune on corrections", "epochs": config.epochs, "seed": config.seed, "threads": config.threads}
        | {"deterministic": torch.are_deterministic_algorithms_enabled(), "seconds": clock.seconds(), "torch": torch.__version__},
        git_revision=registry.git_revision(),
    )
    if reader is not None:
        new_card["numbers"] = dict(card["numbers"]) | reader.card()
    saved = versions.save(config.models, version, weights, new_card)
    _calibrate_memory(config, saved)
    registry.set_current(config.models, version)
    print(f"promoted {version} (was {card.get('version')}) in {clock.seconds()} s")


def _calibrate_memory(config: RetrainConfig, weights: Path) -> None:
    """The parent's threshold means nothing for new features: the new version's card gets its own
    before ``current`` points at it, so no bot ever reads the candidate with the parent's memory."""
    chosen, _, basis = calibrate_model(
        Predictor.load(weights), config.data_root, config.download, config.memory_ordinary, config.memory_per_style
    )

    def put(card: dict[str, Any]) -> None:
        card["memory"] = chosen.to_dict() | {"calibrated_on": basis}

    registry.update_card(weights, put)
    print(f"memory calibrated for the new version: threshold {chosen.threshold}, precision {chosen.precision}")


def report(verdict: Verdict, reports: dict[str, list[Report]], out: Path) -> None:
    """A table on stdout and a PNG of per-digit accuracy before and after, for each set of single digits."""
    print(f"\n{'set':<24}{'n':>7}{'current':>10}{'candidate':>11}{'lost':>6}{'gained':>8}{'p worse':>9}{'p better':>10}")
    for c in verdict.comparisons:
        print(f"{c.name:<24}{c.count:>7}{c.current:>10.4f}{c.candidate:>11.4f}{c.lost:>6}{c.gained:>8}{c.p_worse:>9.2g}{c.p_better:>10.2g}")
    plt = pyplot()
    shown = {name: pair for name, pair in reports.items() if any(len(o.label) == 1 for o in pair[0].outcomes)}
    fig, axes = plt.subplots(1, max(1, len(shown)), figsize=(5 * max(1, len(shown)), 3.6), sharey=True, squeeze=False)
    for ax, (name, (now, then)) in zip(axes[0], shown.items(), strict=False):
        ax.bar(np.arange(10) - 0.2, np.nan_to_num(now.per_digit()), width=0.4, label="current")
        ax.bar(np.arange(10) + 0.2, np.nan_to_num(then.per_digit()), width=0.4, label="candidate")
        ax.set_xticks(range(10))
        ax.set_title(f"{name} (n={len(now.outcomes)})")
        ax.set_ylim(0, 1.05)
    axes[0][0].set_ylabel("accuracy per digit")
    axes[0][0].legend()
    fig.suptitle("promoted" if verdict.promote else "not promoted: " + "; ".join(verdict.reasons)[:120], fontsize=9)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "per_digit.png", dpi=100)
    plt.close(fig)
    print(f"per-digit picture: {out / 'per_digit.png'}")
