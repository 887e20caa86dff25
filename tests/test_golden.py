"""Golden outputs: what the networks see from 22 small fixture photos (crops and strips), pinned.

A change to any stage of the transform that changes the 28x28 inputs fails here, so it
is a visible, deliberate diff: bump ``model.reading.transform.params.VERSION``, regenerate with
``python -m tests.test_golden``, retrain, and say why in the commit. The fixtures were
drawn by ``model.data.render`` (one per kind of photo) and are committed as PNGs; they are
only rewritten when missing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from model.reading.transform import VERSION, DigitTransform

HERE = Path(__file__).resolve().parent / "golden"
EXPECTED = HERE / "expected.json"
TRANSFORM = DigitTransform()


def _fixtures() -> list[Path]:
    return sorted(HERE.glob("*.png"))


def _seen(path: Path) -> dict[str, Any]:
    segmentation = TRANSFORM(path.read_bytes())
    whole = segmentation.whole
    return {
        "reason": segmentation.reason,
        "boxes": [list(c.box) for c in segmentation.crops],
        "crops": [np.round(c.pixels * 255).astype(np.uint8).tolist() for c in segmentation.crops],
        "pairs": [c is not None for c in segmentation.pairs],
        "whole": None if whole is None else np.round(whole.pixels * 255).astype(np.uint8).tolist(),
        "strip": None if segmentation.strip is None else np.round(segmentation.strip.pixels * 255).astype(np.uint8).tolist(),
    }


def test_fixtures_are_there():
    assert len(_fixtures()) >= 20, "run `python -m tests.test_golden` to draw them"


def test_the_network_sees_what_it_saw():
    expected = json.loads(EXPECTED.read_text())
    assert expected["version"] == VERSION, "the transform's version changed: regenerate the golden outputs"
    for path in _fixtures():
        want, got = expected["outputs"][path.name], _seen(path)
        assert got["reason"] == want["reason"], path.name
        assert got["boxes"] == want["boxes"], path.name
        assert got["pairs"] == want["pairs"], path.name
        for a, b in zip(got["crops"], want["crops"], strict=True):
            assert np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max() <= 1, path.name
        assert (got["whole"] is None) == (want["whole"] is None), path.name
        if want["whole"] is not None:
            assert np.abs(np.asarray(got["whole"], np.int16) - np.asarray(want["whole"], np.int16)).max() <= 1, path.name
        assert (got["strip"] is None) == (want["strip"] is None), path.name
        if want["strip"] is not None:
            assert np.shape(got["strip"]) == np.shape(want["strip"]), path.name
            assert np.abs(np.asarray(got["strip"], np.int16) - np.asarray(want["strip"], np.int16)).max() <= 1, path.name


def _draw_fixtures() -> None:
    """One small photo per kind the renderer knows, from MNIST test digits, written once."""
    from devkit.local import DATA_ROOT
    from model.data.digits import load_mnist
    from model.data.render import Look, on_canvas, photo_of

    images, _ = load_mnist(str(DATA_ROOT), train=False, download=False)
    looks = {
        "paper": Look(),
        "grey": Look(ground="grey"),
        "screen": Look(ground="screen", shadow="none"),
        "board": Look(ground="board"),
        "fill": Look(framing="fill"),
        "tight": Look(framing="tight"),
        "tiny": Look(tiny=True),
        "gaps": Look(gaps=True),
        "tinted": Look(shadow="tinted"),
        "page-edge": Look(page_edge=True),
    }
    drawn: dict[str, Image.Image] = {}
    for k, (name, look) in enumerate(looks.items()):
        drawn[f"{name}-1"] = photo_of([images[k]], 77, k, look)
        drawn[f"{name}-3"] = photo_of([images[100 + 3 * k + j] for j in range(3)], 78, k, look)
    drawn["canvas-95"] = on_canvas(images[7], 0.95, np.random.default_rng(7), side=160)
    drawn["mnist"] = Image.fromarray(images[11])
    for name, image in drawn.items():
        path = HERE / f"{name}.png"
        if not path.exists():
            image.thumbnail((160, 160))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            path.write_bytes(buffer.getvalue())


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    _draw_fixtures()
    outputs = {path.name: _seen(path) for path in _fixtures()}
    EXPECTED.write_text(json.dumps({"version": VERSION, "outputs": outputs}, separators=(",", ":")) + "\n")
    print(f"{len(outputs)} golden outputs written to {EXPECTED}")
