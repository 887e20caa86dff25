"""The model registry an operator manages: list its versions, choose the one the bot serves.

    python -m scripts.models list                  every version, the current one marked
    python -m scripts.models use v5                serve v5 (an upgrade, or a rollback)
    python -m scripts.models --models /app/models use v4
    python -m scripts.models export v3 v4          write ONNX exports the bot runs (needs the train extra)
    python -m scripts.models export --all          every version that lacks one

A running bot picks the change up within MODEL_CHECK_SECONDS (or at once with /reload); retrained
versions stay in the registry, so a rollback to one is the same command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from model.reading import registry


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.models", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = Path(os.environ.get("MODEL_PATH", str(registry.SHIPPED)))
    parser.add_argument("--models", type=Path, default=default, help="registry directory (default: MODEL_PATH, else the shipped models)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every version, oldest first, the current one marked")
    use = commands.add_parser("use", help="make a version the current one")
    use.add_argument("version", help="a version in the registry, e.g. v5")
    export = commands.add_parser("export", help="write a version's ONNX graphs, which the bot serves (needs torch: the train extra)")
    export.add_argument("versions", nargs="*", help="versions to export again, e.g. v3")
    export.add_argument("--all", action="store_true", help="every version without an export")
    return parser.parse_args(argv)


def describe(directory: Path, version: str) -> str:
    card_path = directory / f"{version}.json"
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    kind = card.get("training", {}).get("kind", "trained")
    parent = f" from {card['parent']}" if card.get("parent") else ""
    return f"{version}  {card.get('created', '?')}  {kind}{parent}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    directory: Path = args.models
    if args.command == "list":
        current = registry.current_version(directory)
        for version in registry.versions(directory):
            print(("* " if version == current else "  ") + describe(directory, version))
        return 0
    if args.command == "export":
        return export(directory, args.versions, args.all)
    before = registry.current_version(directory)
    try:
        registry.set_current(directory, args.version)
    except FileNotFoundError as error:
        print(f"{error}; the registry holds: {', '.join(registry.versions(directory))}", file=sys.stderr)
        return 1
    print(f"current: {before} -> {args.version}")
    return 0


def export(directory: Path, chosen: list[str], missing: bool) -> int:
    """Export the versions named, and with ``missing`` every one whose card lists no export."""
    from model.learning.versions import export as export_version  # torch: the train extra, which list and use do not need

    known = registry.versions(directory)
    unknown = [v for v in chosen if v not in known]
    if unknown or not (chosen or missing):
        problem = f"not in the registry: {', '.join(unknown)}" if unknown else f"name versions of {', '.join(known)}, or --all"
        print(problem, file=sys.stderr)
        return 1
    lacking = [v for v in known if missing and registry.EXPORT not in registry.read_card(directory / f"{v}.safetensors")[1]]
    for version in dict.fromkeys(chosen + lacking):
        weights = directory / f"{version}.safetensors"
        made = export_version(weights)["sha256"]
        print(f"{version}: " + ", ".join(registry.graph(weights, prefix).name for prefix, name in registry.GRAPHS.items() if name in made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
