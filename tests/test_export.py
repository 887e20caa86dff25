"""The ONNX exports the bot runs: written with every version, the same outputs as torch's, carried by upgrades."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from numpy.typing import NDArray

from devkit.local import MODELS
from model.learning import versions
from model.reading import registry
from model.reading.network import DigitNet
from model.reading.number_net import NumberNet
from model.reading.predictor import Predictor
from scripts import models as models_cli

GOLDEN = Path(__file__).resolve().parent / "golden"


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _golden_views(predictor: Predictor) -> NDArray[np.float32]:
    crops = [crop for photo in sorted(GOLDEN.glob("*.png")) for crop in predictor.transform.segment(photo.read_bytes()).crops]
    views: NDArray[np.float32] = predictor.transform.to_tensor(crops).numpy()
    return views


def test_every_shipped_version_is_exported_as_its_card_says():
    for version in registry.versions(MODELS):
        weights, card = registry.read_card(MODELS / f"{version}.safetensors")
        expected = {registry.GRAPHS[prefix] for prefix in registry.parts_of(card)}
        assert set(card[registry.EXPORT]["sha256"]) == expected, version
        for prefix in registry.parts_of(card):
            data = registry.graph(weights, prefix).read_bytes()
            assert hashlib.sha256(data).hexdigest() == card[registry.EXPORT]["sha256"][registry.GRAPHS[prefix]], version


def test_the_exported_networks_give_torch_outputs_on_the_golden_crops(predictor):
    state, _ = versions.load(MODELS)
    weights, _ = registry.resolve(MODELS)
    views = _golden_views(predictor)
    assert len(views) >= 40
    digits = DigitNet.from_state(versions.part(state, registry.DIGITS)).eval()
    logits, vectors = _session(registry.graph(weights, registry.DIGITS)).run(None, {"views": views})
    with torch.inference_mode():
        expected = digits(torch.from_numpy(views))
        features = digits.features(torch.from_numpy(views))
    probabilities = torch.softmax(torch.from_numpy(logits) / predictor.temperature, 1)
    assert float((probabilities - torch.softmax(expected / predictor.temperature, 1)).abs().max()) <= 1e-4
    assert np.abs(vectors - predictor._projection(features)).max() <= 1e-4
    orientation = DigitNet.from_state(versions.part(state, registry.ORIENTATION)).eval()
    (turns,) = _session(registry.graph(weights, registry.ORIENTATION)).run(None, {"views": views})
    with torch.inference_mode():
        assert np.abs(turns - orientation(torch.from_numpy(views)).numpy()).max() <= 1e-4


def test_the_exported_number_reader_reads_strips_of_any_width():
    state, card = versions.load(MODELS)
    weights, _ = registry.resolve(MODELS)
    network = NumberNet(height=int(card["numbers"]["height"]), hidden=int(card["numbers"]["hidden"])).eval()
    network.load_state_dict(versions.part(state, registry.NUMBERS))
    session = _session(registry.graph(weights, registry.NUMBERS))
    for width in (16, 100, 412):
        strips = np.random.default_rng(width).random((3, 1, network.height, width), dtype=np.float32)
        (logits,) = session.run(None, {"strips": strips})
        with torch.inference_mode():
            assert np.abs(logits - network(torch.from_numpy(strips)).numpy()).max() <= 1e-4


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
