"""Benchmarks, one module per subject, each adding its subcommands to ``python -m scripts.bench`` (see ``__main__``)."""
