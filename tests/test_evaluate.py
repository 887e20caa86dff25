"""``scripts.evaluate --real DIR``: real photos scored per writer, with the reasons behind "no digit"."""

from __future__ import annotations

from PIL import Image

from scripts import evaluate
from tests.conftest import MODELS, digit, jpeg, on_paper


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
    assert "no ink: the page looks blank" in printed
    assert (out / "misread_real.png").stat().st_size > 0 and (out / "confusion_real.png").stat().st_size > 0
