"""``picture``: the cost of drawing the boxed picture of a reading, for a phone JPEG and a 4000x3000 image file."""

from __future__ import annotations

import argparse
import io
from functools import partial

import numpy as np
from PIL import Image

from bot.replies import picture
from bot.replies.answer import Answer
from model.reading.predictor import Predictor
from scripts.bench.common import mnist_test, phone_jpeg, timed, with_model


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    with_model(sub.add_parser("picture", help="cost of drawing the boxed picture of a reading")).set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    predictor = Predictor.load(args.model)
    images, _ = mnist_test(args)
    photos = [phone_jpeg(images, seed) for seed in range(8)]
    big = []
    for data in photos[:4]:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).resize((4000, 3000), Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
        big.append(buffer.getvalue())
    for name, group in (("1280x960", photos), ("4000x3000", big)):
        readings = [(p, Answer.of(r), r) for p in group for r in [predictor.predict(p)]]
        answer = np.mean([timed(partial(picture.boxed, p, d), 20) for p, d, _ in readings])
        inputs = [np.stack([(i.pixels * 255).round().astype(np.uint8) for i in r.items]).tobytes() for _, _, r in readings]
        saw = np.mean([timed(partial(picture.boxed, p, d, x, len(r.items)), 20) for (p, d, r), x in zip(readings, inputs, strict=True)])
        print(
            f"{name} JPEG: boxed answer {answer:.1f} ms, 'What I saw' (boxes and inputs) {saw:.1f} ms (median of 20, {len(group)} photos)"
        )
