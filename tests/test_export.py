"""The ONNX exports the bot runs: written with every version, the same outputs as torch's, carried by upgrades."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from devkit.local import MODELS, REAL_DEV
from model.data.sets import real_photos
from model.learning import served, versions
from model.learning.network import DigitNet
from model.reading import registry
from model.reading.graphs import softmax
from model.reading.predictor import Predictor
from scripts import models as models_cli

GOLDEN = Path(__file__).resolve().parent / "golden"


def _golden_views(predictor: Predictor) -> NDArray[np.float32]:
    crops = [crop for photo in sorted(GOLDEN.glob("*.png")) for crop in predictor.transform(photo.read_bytes()).crops]
    return predictor.transform.views(crops)


def test_every_shipped_version_is_exported_as_its_card_says():
    for version in registry.versions(MODELS):
        weights, card = registry.read_card(MODELS / f"{version}.safetensors")
        expected = {registry.GRAPHS[prefix] for prefix in registry.parts_of(card)}
        assert set(card[registry.EXPORT]["sha256"]) == expected, version
        for prefix in registry.parts_of(card):
            data = registry.graph(weights, prefix).read_bytes()
            assert hashlib.sha256(data).hexdigest() == card[registry.EXPORT]["sha256"][registry.GRAPHS[prefix]], version


@pytest.fixture(scope="module")
def on_torch() -> Predictor:
    """The shipped version read through torch's networks: what the bot served before exports."""
    state, card = versions.load(MODELS)
    numbers = served.number_network(state, card)
    assert numbers is not None
    digits = DigitNet.from_state(versions.part(state, registry.DIGITS))
    return served.predictor(digits, card, str(card["version"]), None, served.number_reader(numbers, card), served.orientation(state, card))


def test_the_exported_networks_give_torch_outputs_on_the_golden_crops(predictor, on_torch):
    views = _golden_views(predictor)
    assert len(views) >= 40
    (logits, vectors), (expected, their_vectors) = predictor.network(views), on_torch.network(views)
    probabilities, theirs = (softmax(each / np.float32(predictor.temperature)) for each in (logits, expected))
    assert np.abs(probabilities - theirs).max() <= 1e-4 and np.abs(vectors - their_vectors).max() <= 1e-4
    assert predictor.orientation is not None and on_torch.orientation is not None
    assert np.abs(predictor.orientation.probabilities(views) - on_torch.orientation.probabilities(views)).max() <= 1e-4


def test_the_exported_number_reader_reads_strips_of_any_width(predictor, on_torch):
    assert predictor.numbers is not None and on_torch.numbers is not None
    for width in (16, 100, 412):
        strips = list(np.random.default_rng(width).random((3, 28, width), dtype=np.float32))
        ours, theirs = predictor.numbers.log_probabilities(strips)[0], on_torch.numbers.log_probabilities(strips)[0]
        assert np.abs(np.exp(ours) - np.exp(theirs)).max() <= 1e-4


def test_every_real_photo_reads_the_same_on_both_runtimes(predictor, on_torch):
    """The issue's parity: the same answers on real-dev, each digit's probabilities within 1e-4."""
    if not (REAL_DEV / "labels.csv").exists():
        pytest.skip(f"real photos not found under {REAL_DEV} (set DIGITBOT_REAL_DEV)")
    photos = real_photos(REAL_DEV)
    for sample in photos:
        ours, theirs = predictor.predict(sample.photo), on_torch.predict(sample.photo)
        assert (ours.number, ours.reason, ours.turned) == (theirs.number, theirs.reason, theirs.turned), sample.label
        for mine, other in zip(ours.items, theirs.items, strict=True):
            assert np.abs(mine.probabilities - other.probabilities).max() <= 1e-4
    assert len(photos) == 215


def test_a_saved_version_gets_its_exports_before_its_card_and_the_cli_writes_them_again(tmp_path):
    state, card = versions.load(MODELS)
    card = {k: v for k, v in card.items() if k != registry.EXPORT}
    weights = versions.save(tmp_path, "v1", state, card | {"version": "v1"})
    written = registry.read_card(weights)[1][registry.EXPORT]["sha256"]
    assert set(written) == {"digits", "numbers", "orientation"}
    for prefix in registry.GRAPHS:
        registry.graph(weights, prefix).unlink()
    assert models_cli.main(["--models", str(tmp_path), "export", "v1"]) == 0
    assert registry.read_card(weights)[1][registry.EXPORT]["sha256"] == written, "the same weights, the same graphs"


def test_adoption_copies_a_versions_exports_with_it(tmp_path):
    volume = tmp_path / "volume"
    registry.adopt(MODELS, volume, follow=False)
    current = registry.current_version(MODELS)
    for prefix in registry.parts_of(registry.read_card(MODELS)[1]):
        shipped = registry.graph(MODELS / f"{current}.safetensors", prefix)
        assert (volume / shipped.name).read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize("arguments", [["export"], ["export", "v99"]])
def test_the_export_command_says_what_it_needs(arguments, capsys):
    assert models_cli.main(["--models", str(MODELS), *arguments]) == 1
    error = capsys.readouterr().err
    assert ("not in the registry: v99" if "v99" in arguments else "or --all") in error
