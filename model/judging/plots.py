"""The pictures an evaluation writes: confusion matrix, misread photos beside what the model saw,
reliability diagram. matplotlib is imported only when a picture is asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model.judging.evaluation import Report


def confusion(report: Report) -> np.ndarray:
    """Rows: true digit; columns: read digit 0-9, then 'no digit', then 'several'."""
    matrix = np.zeros((10, 12), dtype=int)
    for o in report.outcomes:
        if len(o.label) != 1:
            continue
        read = o.reading.number
        column = int(read) if len(read) == 1 else (10 if not read else 11)
        matrix[int(o.label), column] += 1
    return matrix


def pyplot() -> Any:
    """matplotlib's pyplot drawing to files only (no screen here), imported when a picture is asked for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(report: Report, path: Path) -> None:
    plt = pyplot()
    matrix = confusion(report)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    shown = np.log1p(matrix)
    ax.imshow(shown, cmap="Blues")
    for (r, c), v in np.ndenumerate(matrix):
        if v:
            ax.text(c, r, str(v), ha="center", va="center", fontsize=7, color="white" if shown[r, c] > shown.max() / 2 else "black")
    ax.set_xticks(range(12), [*map(str, range(10)), "none", "many"])
    ax.set_yticks(range(10))
    ax.set_xlabel("read as")
    ax.set_ylabel("true digit")
    ax.set_title(f"{report.name}: accuracy {report.accuracy:.2%} on {len(report.outcomes)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_misreads(report: Report, path: Path, limit: int = 48) -> None:
    """A grid: the photo, then what the model saw (its 28x28 inputs), with truth and guess."""
    plt = pyplot()
    wrong = [o for o in report.outcomes if not o.correct][:limit]
    wrong_count = len(wrong)
    cols = 8
    rows = max(1, (wrong_count + cols - 1) // cols)
    fig, axes = plt.subplots(rows * 2, cols, figsize=(cols * 1.6, rows * 3.4))
    for ax in np.ravel(axes):
        ax.axis("off")
    for i, outcome in enumerate(wrong):
        r, c = divmod(i, cols)
        top, bottom = axes[2 * r][c], axes[2 * r + 1][c]
        top.imshow(outcome.photo.convert("RGB"))
        seen = [item.pixels for item in outcome.reading.items] or [np.zeros((28, 28), np.float32)]
        bottom.imshow(np.concatenate(seen, axis=1), cmap="gray", vmin=0, vmax=1)
        guess = outcome.reading.number or "none"
        who = f"{outcome.group}: " if outcome.group else ""
        bottom.set_title(f"{who}{outcome.label} -> {guess} ({outcome.reading.confidence:.0%})", fontsize=8)
    fig.suptitle(f"{report.name}: {wrong_count} misread shown (photo above, model input below)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_calibration(reports: list[Report], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for report in reports:
        ece, rows = report.calibration()
        if rows:
            ax.plot([r[0] for r in rows], [r[1] for r in rows], "o-", label=f"{report.name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability of the reported confidence")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
