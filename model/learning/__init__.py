"""Training and retraining as library code, each driven by one config holding every size and seed.
Imports ``model.reading``, ``model.data`` and ``model.judging`` (the gate)."""
