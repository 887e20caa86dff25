"""Choose the distance at which a person's memory of corrected shapes may decide a digit.

    python -m scripts.calibrate_memory --data-root ../shared/data [--model models] [--write-card]

What it measures is ``model.learning.memory_calibration``'s (every promotion runs it too).
The chosen threshold, the rules' other parameters and the precision of memory answers go on
the model's card, where the bot reads them; without them the memory is off.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from model.learning.memory_calibration import ORDINARY, PER_STYLE, calibrate_model
from model.reading import registry
from model.reading.memory import MemoryParams
from model.reading.predictor import Predictor


def main(argv: list[str] | None = None) -> MemoryParams:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.calibrate_memory", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(registry.SHIPPED), help="registry directory or .safetensors file")
    parser.add_argument("--data-root", default="data", help="where MNIST is (or is downloaded to)")
    parser.add_argument("--no-download", action="store_true", help="never download MNIST")
    parser.add_argument("--ordinary", type=int, default=ORDINARY, help="ordinary digits (the first 100 are remembered)")
    parser.add_argument("--per-style", type=int, default=PER_STYLE, help="drawings per style (the first 3 are corrected)")
    parser.add_argument("--write-card", action="store_true", help="store the result in the model's card")
    args = parser.parse_args(argv)
    predictor = Predictor.load(args.model)
    chosen, trials, basis = calibrate_model(predictor, args.data_root, not args.no_download, args.ordinary, args.per_style)
    print(f"{'threshold':>9}{'broken':>8}{'fixed':>7}{'styles right':>14}{'precision':>11}")
    for t in trials:
        print(f"{t.threshold:>9.2f}{t.broken:>8}{t.fixed:>7}{t.styles_right:>8}/{t.styles:<5}{t.precision:>11.3f}")
    print(f"chosen: {chosen} ({basis})")
    if args.write_card:

        def put(card: dict[str, Any]) -> None:
            card["memory"] = chosen.to_dict() | {"calibrated_on": basis}

        print(f"written to {registry.update_card(Path(args.model), put)}")
    return chosen


if __name__ == "__main__":
    main()
