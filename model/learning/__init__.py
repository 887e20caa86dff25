"""The torch side: the networks, their weights and ONNX exports, and training and retraining as
library code, each driven by one config holding every size and seed.
Imports ``model.reading``, ``model.data`` and ``model.judging`` (the gate)."""
