"""Images and tensors, nothing of Telegram or databases: four rooms, each named for its job.

- ``model.reading``: what serving needs and nothing else (the transform, the networks' ONNX
  exports in ONNX Runtime, the predictor, a person's memory, the registry), without torch.
  Imports no other room.
- ``model.data``: MNIST and the drawn photos (renderer, non-digit shapes, named sets).
  Imports ``model.reading`` only.
- ``model.learning``: the torch side: the networks, their weights and exports, training and
  retraining as library code. Imports ``reading``, ``data`` and ``judging``.
- ``model.judging``: the scores, evaluation over named sets and real folders, the pictures,
  the promotion gate and the reference reader. Imports ``reading`` and ``data``.

``model.predict`` is the command line over ``model.reading`` (``python -m model.predict``).
``tests/test_rooms.py`` holds these rules, and serving's freedom from the ``train`` extra.
"""
