"""Read digits from image files.

    python -m model.predict [--json] [--model PATH] FILE...

With ``--json``, one JSON object per line per file, in input order:
``{"file", "digits", "confidence", "candidates": [{"digit", "p"}, ...]}`` plus ``"error"``
only when the file could not be read. ``candidates`` are the top 3 for the least certain
digit (the only digit when there is one). A bad file never stops the others; the exit
code is 0 when every file was read, 1 when any could not be (as ``cat`` does), and 2 when the
model itself cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from model.reading import registry
from model.reading.predictor import ImageError, Predictor, Reading


def record(file: str, reading: Reading | None, error: str | None = None) -> dict[str, Any]:
    """The CLI's JSON contract for one file."""
    least = reading.least_sure if reading else None
    out: dict[str, Any] = {
        "file": file,
        "digits": reading.number if reading else "",
        "confidence": round(reading.confidence, 4) if reading else 0.0,
        "candidates": [{"digit": c.digit, "p": c.p} for c in least.top] if least else [],
    }
    if error is not None:
        out["error"] = error
    return out


def read_one(predictor: Predictor, file: str) -> dict[str, Any]:
    try:
        data = Path(file).read_bytes()
    except OSError as err:
        return record(file, None, f"cannot read file: {err.strerror or err}")
    try:
        return record(file, predictor.predict(data))
    except ImageError as err:
        return record(file, None, str(err))


def human(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    if not result["digits"]:
        return f"{result['file']}: no digit"
    return f"{result['file']}: {result['digits']} ({result['confidence']:.0%} sure)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model.predict", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--model", default=str(registry.SHIPPED), help="registry directory or .safetensors file")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        predictor = Predictor.load(args.model)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        print(f"cannot load the model from {args.model}: {err}", file=sys.stderr)
        return 2
    failed = False
    for file in args.files:
        result = read_one(predictor, file)
        failed |= "error" in result
        print(json.dumps(result) if args.json else human(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
