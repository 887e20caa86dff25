"""``scripts.evaluate --real DIR``: real photos scored per writer, with the reasons behind "no digit"."""

from __future__ import annotations

import json

from PIL import Image

from devkit.local import MODELS
from devkit.photos import digit, jpeg, on_paper
from model.learning import versions
from scripts import evaluate


def test_real_photo_folder_is_scored_per_writer(tmp_path, mnist_test, capsys):
    folder = tmp_path / "real"
    (folder / "images").mkdir(parents=True)
    rows = ["file,label,writer"]
    for i, (value, writer) in enumerate([(3, "ann"), (7, "ann"), (5, "bob")]):
        (folder / "images" / f"{i}.jpg").write_bytes(jpeg(on_paper([digit(mnist_test, value)])))
        rows.append(f"images/{i}.jpg,{value},{writer}")
    Image.new("RGB", (300, 200), (235, 235, 230)).save(folder / "images" / "blank.png")
    rows.append("images/blank.png,4,bob")  # a digit the photo does not show: read as "no digit"
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "eval"
    (report,) = evaluate.main(["--model", str(MODELS), "--real", str(folder), "--only", "real", "--out", str(out)])
    printed = capsys.readouterr().out
    assert [o.correct for o in report.outcomes] == [True, True, True, False]
    assert report.by_group() == {"ann": (2, 2), "bob": (1, 2)}
    assert "real by group: ann 2/2, bob 1/2" in printed
    assert "1 x blank" in printed
    assert (out / "misread_real.png").stat().st_size > 0 and (out / "confusion_real.png").stat().st_size > 0


def test_write_card_adds_figures_to_a_card_without_any(tmp_path, mnist_test):
    state, card = versions.load(MODELS)
    models = tmp_path / "models"
    versions.save(models, "v1", state, {k: v for k, v in card.items() if k != "metrics"})
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "one.jpg").write_bytes(jpeg(on_paper([digit(mnist_test, 3)])))
    (folder / "labels.csv").write_text("file,label\none.jpg,3\n")
    evaluate.main(["--model", str(models), "--real", str(folder), "--only", "real", "--out", str(tmp_path / "eval"), "--write-card"])
    written = json.loads((models / "v1.json").read_text())
    assert written["metrics"] == {"test_real_accuracy": 1.0, "test_real_count": 1, "test_real_ece": written["metrics"]["test_real_ece"]}
    assert written["transform"] == card["transform"]
    graphs = [f"v1.{name}.onnx" for name in ("digits", "numbers", "orientation")]
    assert sorted(p.name for p in models.iterdir()) == sorted(["v1.json", "v1.safetensors", *graphs]), "no temporary file left behind"


def test_real_photos_turned_a_quarter_are_scored_with_the_turns_said_and_the_swaps_counted(tmp_path, mnist_test, capsys):
    folder = tmp_path / "real"
    (folder / "images").mkdir(parents=True)
    rows = ["file,label,writer"]
    for i, value in enumerate([6, 9, 4, 7]):
        (folder / "images" / f"{i}.jpg").write_bytes(jpeg(on_paper([digit(mnist_test, value)])))
        rows.append(f"images/{i}.jpg,{value},ann")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    (report,) = evaluate.main(["--model", str(MODELS), "--real", str(folder), "--only", "real_turned", "--out", str(tmp_path / "eval")])
    printed = capsys.readouterr().out
    swaps, sure = report.swapped()
    assert sure == 0
    assert f"real_turned: {report.said_turned} read turned upright; 6 and 9 swapped {swaps} times, 0 of them surely" in printed
    assert report.said_turned == sum(o.reading.turned for o in report.outcomes) >= 2
