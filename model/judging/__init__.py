"""How well a model reads: one set of scores, evaluation through the whole photo path, the pictures,
the promotion gate's decision and the reference reader. Imports ``model.reading`` and ``model.data``."""
