"""The bot's side of reading: the model in a bounded thread pool and each person's memory.

- ``inference``: the predictor, loaded once, hot-reloaded, run off the event loop;
- ``memory``: a person's corrections, recalled for their next photos.

May import: ``model.reading`` (through the predictor's small API), the ops and storage rooms.
"""
