"""The predict CLI is a contract other tools depend on: one JSON line per file, in order."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from devkit.local import ROOT
from devkit.photos import digit, jpeg, on_paper, png


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "model.predict", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_json_lines_in_input_order_with_errors_in_place(tmp_path, mnist_test):
    good = tmp_path / "seven.jpg"
    good.write_bytes(jpeg(on_paper([digit(mnist_test, 7)])))
    number = tmp_path / "number.png"
    number.write_bytes(png(on_paper([digit(mnist_test, 4), digit(mnist_test, 2)])))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(jpeg(on_paper([digit(mnist_test, 1)]))[:200])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    blank = tmp_path / "blank.png"
    blank.write_bytes(png(on_paper([])))
    missing = tmp_path / "missing.png"
    files = [good, number, corrupt, empty, text, blank, missing]
    result = run("--json", *map(str, files))
    assert result.returncode == 1, "some files could not be read"
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(f) for f in files]
    by_name = {r["file"].rsplit("/", 1)[1]: r for r in rows}
    assert by_name["seven.jpg"]["digits"] == "7"
    assert by_name["number.png"]["digits"] == "42"
    for row in rows:
        assert set(row) >= {"file", "digits", "confidence", "candidates"}
        assert 0.0 <= row["confidence"] <= 1.0
    for name in ("seven.jpg", "number.png", "blank.png"):
        assert "error" not in by_name[name]
    for name in ("corrupt.jpg", "empty.png", "notes.txt", "missing.png"):
        assert by_name[name]["error"] and by_name[name]["digits"] == ""
    seven = by_name["seven.jpg"]
    assert len(seven["candidates"]) == 3 and seven["candidates"][0] == {"digit": 7, "p": seven["candidates"][0]["p"]}
    assert by_name["blank.png"]["digits"] == "" and by_name["blank.png"]["candidates"] == []


def test_human_output(tmp_path, mnist_test):
    good = tmp_path / "three.jpg"
    good.write_bytes(jpeg(on_paper([digit(mnist_test, 3)])))
    result = run(str(good))
    assert result.returncode == 0 and result.stdout.startswith(f"{good}: 3 (")


def test_every_file_missing_is_a_failure(tmp_path):
    result = run(str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert result.returncode == 1 and result.stdout.count("error: cannot read file") == 2


def test_unloadable_model_exits_2(tmp_path):
    result = run("--model", str(tmp_path / "nothing.safetensors"), str(tmp_path / "x.png"))
    assert result.returncode == 2 and "cannot load the model" in result.stderr


def test_every_command_line_option_says_what_it_does_and_every_command_its_name():
    """``--help`` is the manual an operator reads first: no option without a description, no
    "usage: train.py" for a command run as ``python -m scripts.train``."""
    for path in [*ROOT.glob("scripts/**/*.py"), ROOT / "model" / "predict.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute | ast.Name):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            keywords = {k.arg for k in node.keywords}
            if name == "add_argument" and not any(isinstance(a, ast.Constant) and a.value == "files" for a in node.args):
                assert "help" in keywords, f"{path.name}:{node.lineno}: an option without help"
            if name == "ArgumentParser":
                assert "prog" in keywords, f"{path.name}:{node.lineno}: a parser without prog"
