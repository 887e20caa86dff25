"""What tests and benchmarks share: the fake Bot API, drawn digit styles, seeded corrections.

Development code, never imported by ``bot`` or ``model``.
"""
