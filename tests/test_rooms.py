"""The rooms' import rules, read from the code, and serving without the training tools.

The bot's install (``pip install .``, the image's runtime stage) has no torch: what the bot, the
command line reader and the devkit's try-and-demo entry points import, at module level, must not
reach the ``train`` extra. Imports inside functions are left out of the walk (``scripts.models``
imports the exporter only for ``export``); the subprocess test below runs the real thing with the
training tools made unimportable, which catches those too where they run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from devkit.local import MODELS, ROOT

TRAIN_ONLY = {"torch", "torchvision", "safetensors", "tqdm", "onnx", "matplotlib"}
SERVING_ENTRIES = ["bot", "model.predict", "scripts.models", "devkit.try_bot", "devkit.playground"]
MODEL_ROOMS = {
    "model.reading": set(),
    "model.data": {"model.reading"},
    "model.judging": {"model.reading", "model.data"},
    "model.learning": {"model.reading", "model.data", "model.judging"},
}
BOT_ROOMS = {
    "bot.ops": set(),
    "bot.storage": set(),
    "bot.migrations": {"bot.storage", "bot.config"},
    "bot.replies": set(),
    "bot.reading": {"bot.ops", "bot.storage"},
    "bot.delivery": {"bot.ops", "bot.storage"},
    "bot.handlers": {"bot.replies", "bot.delivery", "bot.reading", "bot.ops", "bot.storage", "bot.context", "bot.config"},
}
"""Each room of the bot and what else of the bot it may import (``bot/__init__.py`` and each room's own)."""


def source_of(module: str) -> list[Path]:
    path = ROOT.joinpath(*module.split("."))
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path.with_suffix(".py")] if path.with_suffix(".py").exists() else []


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules a file imports when it is imported (not inside a function), as dotted names."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def all_imports(path: Path) -> set[str]:
    """Every module a file names in an import statement, inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module)
    return found


def reached_from(entries: list[str]) -> dict[str, set[str]]:
    """The project's modules imported (transitively, at module level) from the entries, each with
    the third-party packages it imports."""
    seen: dict[str, set[str]] = {}
    todo = [path for entry in entries for path in source_of(entry)]
    while todo:
        path = todo.pop()
        name = module_name(path)
        if name in seen:
            continue
        imports = top_level_imports(path)
        seen[name] = {imported.split(".")[0] for imported in imports}
        todo += [found for imported in imports for found in source_of(imported)]
    return seen


def test_serving_reaches_nothing_of_the_train_extra():
    reached = reached_from(SERVING_ENTRIES)
    assert "model.reading.predictor" in reached and "bot.handlers.photos" in reached, "the walk follows the project's imports"
    offenders = {name: sorted(packages & TRAIN_ONLY) for name, packages in reached.items() if packages & TRAIN_ONLY}
    assert offenders == {}


def test_each_room_imports_only_the_rooms_it_may():
    for room, allowed in MODEL_ROOMS.items():
        for path in source_of(room):
            for imported in all_imports(path):
                if imported.startswith("bot") or imported.startswith("devkit"):
                    raise AssertionError(f"{path.relative_to(ROOT)} imports {imported}")
                other = next((r for r in MODEL_ROOMS if imported == r or imported.startswith(r + ".")), room)
                assert other == room or other in allowed, f"{path.relative_to(ROOT)} imports {imported}"
    for path in source_of("bot"):
        model_imports = {i for i in all_imports(path) if i.startswith("model")}
        assert all(i.startswith("model.reading") for i in model_imports), f"{path.relative_to(ROOT)}: {model_imports}"


def test_each_room_of_the_bot_imports_only_the_rooms_it_may():
    rooms = set(source_of("bot")) - {path for room in BOT_ROOMS for path in source_of(room)}
    assert {module_name(path) for path in rooms} == {"bot", "bot.__main__", "bot.app", "bot.config", "bot.context", "bot.health"}
    for room, allowed in BOT_ROOMS.items():
        for path in source_of(room):
            for imported in (i for i in all_imports(path) if i == "bot" or i.startswith("bot.")):
                other = next((r for r in [room, *allowed] if imported == r or imported.startswith(r + ".")), None)
                assert other is not None, f"{path.relative_to(ROOT)} imports {imported}"


BLOCKED_RUN = """
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is not installed here")
sys.meta_path.insert(0, Blocked())
import bot.app, devkit.try_bot, devkit.playground
from devkit.photos import png
from model.reading.predictor import Predictor
from scripts import models
assert models.main(["--models", {models!r}, "list"]) == 0
page = __import__("PIL.Image").Image.new("L", (200, 200), 235)
page.paste(0, (95, 40, 105, 160))
print(Predictor.load({models!r}).predict(png(page)).number)
"""


def test_the_bot_reads_a_photo_with_the_training_tools_not_installed():
    code = BLOCKED_RUN.format(blocked=TRAIN_ONLY, models=str(MODELS))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"
