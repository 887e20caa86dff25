"""``gate``: a candidate made worse on purpose (one epoch of fine-tuning on MNIST digits whose ``--digit``
carries shuffled labels) is read against the current model by the promotion gate at its default sizes,
``--runs`` times with different seeds; prints each verdict, the sets that refuse it and their counts,
and each fixed set's power to see a 0.5-point drop at the churn the run showed."""

from __future__ import annotations

import argparse
import time

import numpy as np

from model.data import sets
from model.data.digits import Digits, load_mnist, transform_digits
from model.data.sets import Sample
from model.data.styles import STYLES, draw
from model.judging.gate import Comparison, Rules, gate, power
from model.learning import served, versions
from model.learning.fit import FitConfig, fit, reproducible
from model.learning.network import DigitNet
from model.learning.retrain import RetrainConfig
from model.learning.train import VALIDATION
from model.reading import registry
from model.reading.predictor import Predictor
from scripts.bench.common import mnist_test, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = with_model(sub.add_parser("gate", help="the promotion gate against a candidate made worse on purpose"))
    parser.add_argument("--digit", type=int, default=3, help="the digit whose labels the candidate learns shuffled")
    parser.add_argument("--runs", type=int, default=5, help="retraining runs, each on another seed")
    parser.add_argument("--seed", type=int, default=100, help="run r's sabotage and replay use seed + r")
    parser.add_argument("--replay", type=int, default=6000, help="MNIST training digits of the sabotaging epoch")
    parser.set_defaults(run=run)


def sabotaged(current: Predictor, args: argparse.Namespace, seed: int) -> Predictor:
    """One epoch on replay digits where every ``args.digit`` is labelled at random: a mild, plausible harm."""
    images, labels = load_mnist(args.data_root, train=True, download=not args.no_download)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(images) - VALIDATION, args.replay, replace=False)  # never the held-out digits
    data = transform_digits(images[pick], labels[pick], current.transform.params, photo=False, seed=seed, workers=2, desc="replay")
    shuffled = data.labels.copy()
    hit = shuffled == args.digit
    shuffled[hit] = rng.integers(0, 10, int(hit.sum()))
    state, card = versions.load(args.model)
    network = DigitNet.from_state(versions.part(state, registry.DIGITS))
    fit(network, Digits(data.pixels, shuffled), current.transform, FitConfig(epochs=1, max_lr=1e-4, seed=seed, freeze_norm=True))
    return served.predictor(network.eval(), card, "sabotaged", numbers=current.numbers)


def run(args: argparse.Namespace) -> None:
    current = Predictor.load(args.model)
    images, labels = mnist_test(args)
    sizes, refused = RetrainConfig(models=args.model), 0
    label = STYLES["square-9"][0]
    held_out = [Sample(draw("square-9", np.random.default_rng(3000 + i)), label) for i in range(40)]
    for r in range(args.runs):
        reproducible(r, 2)
        start = time.perf_counter()
        candidate = sabotaged(current, args, seed=args.seed + r)
        gate_sets = {"mnist": sizes.test, "photo": sizes.test_photos, "non_digits": sizes.test_non_digits, "written": sizes.test_numbers}
        fixed = {name: sets.named(name, images, labels, count) for name, count in gate_sets.items()}
        verdict, _ = gate(current, candidate, fixed, held_out)
        named = [c.name for c in verdict.comparisons[:-1] if any(reason.startswith(c.name + ":") for reason in verdict.reasons)]
        refused += not verdict.promote and bool(named)
        print(f"run {r + 1}: {'refused' if not verdict.promote else 'PROMOTED'} by {named} in {time.perf_counter() - start:.0f} s")
        for c in verdict.comparisons:
            print("  " + describe(c))
    print(f"sabotaged digit {args.digit}: refused by a fixed set in {refused} of {args.runs} runs")


def describe(c: Comparison) -> str:
    churn = c.gained / c.count if c.count else 0.0
    seen = f"power for a 0.5-point drop at this churn {power(c.count, max(churn, 1e-4), 0.005, margin=Rules().margin(c.name)):.2f}"
    counts = f"{c.name:<22} n={c.count:<6} lost {c.lost:<5} gained {c.gained:<5} p worse {c.p_worse:.2g}"
    return counts + ("  " + seen if c.kind == "fixed" else "")
