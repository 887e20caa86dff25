"""Benchmarks whose output is quoted in notes and README: figures, not tests. One subcommand each:

    python -m scripts.bench photo       # ms per 1280x960 JPEG vs Pillow's bare decode; photos/s on 2 cores
    python -m scripts.bench mnist-cli   # MNIST test accuracy through `python -m model.predict --json`
    python -m scripts.bench bot         # the bot in its own process: replies/s, latency, RSS, stages (--bot fixed: the ceiling)
    python -m scripts.bench start       # a cold start of the bot: seconds to ready and to a first answer, RSS
    python -m scripts.bench decode      # memory of huge palette PNGs, one and four at once
    python -m scripts.bench export      # peak memory of the retraining export: 1,000 corrections with 2 MB photos
    python -m scripts.bench press       # database time of a button press on a prediction whose photo is 20 MB
    python -m scripts.bench picture     # cost of drawing the boxed picture of a reading
    python -m scripts.bench memory      # per-person memory of corrections: what it fixes, what it leaves alone, its cost
    python -m scripts.bench retrain     # retraining on seeded corrections with the defaults, and its gate
    python -m scripts.bench gate        # the promotion gate against a candidate made worse on purpose, run after run
    python -m scripts.bench strokes     # stroke recall and precision of the transform per kind of render

``python -m scripts.bench <name> --help`` lists a benchmark's own options.
"""

from __future__ import annotations

import argparse

from scripts.bench import bot, database, decode, gate, memory, photo, picture, retrain, start, strokes


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="which", required=True, metavar="benchmark")
    for module in (photo, bot, start, decode, database, picture, memory, retrain, gate, strokes):
        module.add(sub)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    args.run(args)


if __name__ == "__main__":
    main()
