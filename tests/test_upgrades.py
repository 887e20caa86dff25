"""A deployment's registry outlives its image: a release's models arrive, the operator chooses when to serve them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.reading.inference import Reader, Shipped
from model.reading import registry
from scripts import models


def _release(directory: Path, versions: dict[str, bytes], current: str) -> Path:
    """A registry of stand-in files: adoption copies bytes and moves a pointer, it never loads a network."""
    directory.mkdir(parents=True, exist_ok=True)
    for version, content in versions.items():
        (directory / f"{version}.safetensors").write_bytes(content)
        (directory / f"{version}.json").write_text(f'{{"version": "{version}"}}\n')
    registry.set_current(directory, current)
    return directory


def test_a_first_start_copies_the_release_and_serves_its_model(tmp_path):
    shipped = _release(tmp_path / "shipped", {"v1": b"one", "v2": b"two"}, "v2")
    done = registry.adopt(shipped, tmp_path / "volume", follow=False)
    assert done.copied == ("v1", "v2") and done.current == "v2" and done.moved_from is None
    assert (tmp_path / "volume" / "v2.safetensors").read_bytes() == b"two"
    assert (tmp_path / "volume" / "v2.json").exists()
    again = registry.adopt(shipped, tmp_path / "volume", follow=False)
    assert again.copied == () and again.clashing == () and again.current == "v2"


def test_a_newer_release_arrives_but_is_served_only_when_the_operator_says_so(tmp_path):
    volume = _release(tmp_path / "volume", {"v1": b"one", "v2": b"two"}, "v2")
    shipped = _release(tmp_path / "shipped", {"v1": b"one", "v2": b"two", "v3": b"three"}, "v3")
    kept = registry.adopt(shipped, volume, follow=False)
    assert kept.copied == ("v3",) and kept.current == "v2" and kept.shipped == "v3" and kept.moved_from is None
    followed = registry.adopt(shipped, volume, follow=True)
    assert followed.copied == () and followed.current == "v3" and followed.moved_from == "v2"
    assert models.main(["--models", str(volume), "use", "v2"]) == 0, "a rollback is one command"
    assert registry.current_version(volume) == "v2"


def test_a_version_retrained_here_is_never_overwritten_by_a_shipped_one_of_the_same_name(tmp_path):
    volume = _release(tmp_path / "volume", {"v1": b"one", "v2": b"retrained here"}, "v2")
    shipped = _release(tmp_path / "shipped", {"v1": b"one", "v2": b"two"}, "v2")
    done = registry.adopt(shipped, volume, follow=True)
    assert done.clashing == ("v2",) and done.copied == () and done.moved_from is None
    assert (volume / "v2.safetensors").read_bytes() == b"retrained here"


def test_choosing_a_version_the_registry_lacks_is_refused_with_what_it_holds(tmp_path, capsys):
    volume = _release(tmp_path / "volume", {"v1": b"one", "v2": b"two"}, "v2")
    assert models.main(["--models", str(volume), "use", "v9"]) == 1
    assert "the registry holds: v1, v2" in capsys.readouterr().err
    assert registry.current_version(volume) == "v2"
    assert models.main(["--models", str(volume), "list"]) == 0
    assert "* v2" in capsys.readouterr().out


async def _served(volume: Path, caplog: pytest.LogCaptureFixture) -> str:
    """The version the bot serves after its start on ``volume``, its log captured."""
    reader = Reader(volume, 1, Shipped(registry.SHIPPED))
    caplog.set_level(logging.INFO, logger="bot.reading.inference")
    try:
        await reader.load()
        return reader.version
    finally:
        reader.close()


@pytest.mark.asyncio
async def test_the_bot_brings_the_release_into_an_empty_volume_and_says_so(tmp_path, caplog):
    version = await _served(tmp_path / "volume", caplog)
    release = registry.current_version(registry.SHIPPED)
    assert version == release
    assert registry.versions(tmp_path / "volume") == registry.versions(registry.SHIPPED)
    assert "shipped models copied into" in caplog.text


@pytest.mark.asyncio
async def test_the_bot_keeps_serving_the_operators_choice_and_names_the_newer_release(tmp_path, caplog):
    volume = tmp_path / "volume"
    registry.adopt(registry.SHIPPED, volume, follow=False)
    older = registry.versions(volume)[-2]
    registry.set_current(volume, older)
    version = await _served(volume, caplog)
    release = registry.current_version(registry.SHIPPED)
    assert version == older != release
    assert f"current model stays {older}; this release ships {release}" in caplog.text


@pytest.mark.asyncio
async def test_a_volume_filled_before_exports_gets_them_from_the_release(tmp_path, caplog):
    """A release before ONNX exports copied weights and cards only: the next start copies the exports
    of the versions it holds as shipped, and serves its model."""
    volume = tmp_path / "volume"
    registry.adopt(registry.SHIPPED, volume, follow=False)
    for version in registry.versions(volume):
        weights, card = registry.read_card(volume / f"{version}.safetensors")
        registry.write_card(weights, {k: v for k, v in card.items() if k != registry.EXPORT})
        for prefix in registry.GRAPHS:
            registry.graph(weights, prefix).unlink(missing_ok=True)
    assert await _served(volume, caplog) == registry.current_version(registry.SHIPPED)
    assert f"shipped models copied into {volume}: {', '.join(registry.versions(volume))}" in caplog.text


@pytest.mark.asyncio
async def test_a_version_published_without_its_export_is_not_loaded_and_said_once(tmp_path, caplog):
    volume = tmp_path / "volume"
    registry.adopt(registry.SHIPPED, volume, follow=False)
    reader = Reader(volume, 1, Shipped(registry.SHIPPED))
    caplog.set_level(logging.INFO, logger="bot.reading.inference")
    try:
        await reader.load()
        serving = reader.version
        weights, card = registry.read_card(volume)
        retrained = volume / "v90.safetensors"
        retrained.write_bytes(weights.read_bytes())
        registry.write_card(retrained, {k: v for k, v in card.items() if k != registry.EXPORT} | {"version": "v90"})
        registry.set_current(volume, "v90")
        assert await reader.reload_if_changed() is None and await reader.reload_if_changed() is None
        assert reader.version == serving
        assert caplog.text.count(f"not reloaded, still serving {serving}: v90 has no ONNX export") == 1
    finally:
        reader.close()
