"""Each person's memory of corrected shapes, as the photo path needs it: current, cheap, per model.

The rows live in the database (every replica and every restart sees them; ``/forget``
erases them). Each process caches a person's vectors as one matrix and checks it with one
indexed query per photo: new rows are appended, anything else (a ``/forget``, a changed
correction, a new model) rebuilds it. Rows kept under an older model are recomputed from
their stored 28x28 inputs by the model now loaded, so vectors of two versions never meet.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from bot.reading.inference import Reader
from bot.storage import MemoryMark, NewMemory, Storage, StoredPrediction
from model.reading.memory import Memory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cached:
    """A person's memory (of one model version) and the last remembered row it holds."""

    memory: Memory
    last_id: int


class MemoryCache:
    """Each person's memory (``model.reading.memory.Memory``) as this process holds it, for the last
    ``people`` who sent a photo; the database's rows (``bot.storage.memories``) are the memory itself."""

    def __init__(self, storage: Storage, reader: Reader, people: int = 1024) -> None:
        self.storage, self.reader, self.people = storage, reader, people
        self._cache: OrderedDict[int, _Cached] = OrderedDict()

    def key(self, user_id: int) -> tuple[int, str] | None:
        """What to read the person's memory mark for (with the photo's admission), or None where the memory is off."""
        predictor = self.reader.predictor
        return (user_id, predictor.version) if predictor.memory.threshold > 0 else None

    async def of(self, user_id: int, known: tuple[str, MemoryMark] | None = None) -> Memory | None:
        """The person's memory for the model loaded now, or None (nothing remembered, or a model without a
        threshold). ``known``: a mark already read (with the photo's admission) and the version it was read for."""
        predictor = self.reader.predictor
        if predictor.memory.threshold <= 0:
            return None
        version = predictor.version
        mark = known[1] if known is not None and known[0] == version else await self.storage.memory_mark(user_id, version)
        if mark.stale:
            await self._recompute(user_id, version)
            mark = await self.storage.memory_mark(user_id, version)
        cached = self._cache.pop(user_id, None)
        if mark.count == 0:
            return None
        if cached is None or cached.memory.version != version or cached.last_id > mark.last_id:
            cached = _Cached(Memory.empty(version), 0)
        if len(cached.memory) != mark.count or cached.last_id != mark.last_id:
            rows = await self.storage.memories(user_id, version, cached.last_id)
            if len(cached.memory) + len(rows) != mark.count:  # rows went, not only came: start over
                cached, rows = _Cached(Memory.empty(version), 0), await self.storage.memories(user_id, version)
            cached = _Cached(_extended(cached.memory, rows), rows[-1][0] if rows else cached.last_id)
        self._cache[user_id] = cached
        while len(self._cache) > self.people:
            self._cache.popitem(last=False)
        return cached.memory

    async def from_correction(self, prediction: StoredPrediction, label: str) -> list[NewMemory]:
        """The digits to remember from a correction: each stored input with its digit of ``label``.
        Nothing when the label does not match the inputs one to one, or when it confirms the answer."""
        if label == prediction.digits or len(label) != prediction.input_count or not prediction.input_count:
            return []
        inputs = np.frombuffer(prediction.model_inputs, np.uint8).reshape(prediction.input_count, 28, 28)
        version, vectors = await self.reader.embed(inputs)
        return [
            NewMemory(version, int(char), vector.tobytes(), pixels.tobytes())
            for char, vector, pixels in zip(label, vectors, inputs, strict=True)
        ]

    async def _recompute(self, user_id: int, version: str) -> None:
        stale = await self.storage.stale_memories(user_id, version)
        inputs = np.stack([np.frombuffer(pixels, np.uint8).reshape(28, 28) for _, pixels in stale])
        computed, vectors = await self.reader.embed(inputs)
        if computed == version:  # else a newer model arrived meanwhile: the next photo recomputes for it
            await self.storage.revector(version, [(memory_id, v.tobytes()) for (memory_id, _), v in zip(stale, vectors, strict=True)])
            log.info("recomputed %d remembered digits for model %s", len(stale), version)


def _extended(memory: Memory, rows: list[tuple[int, int, bytes]]) -> Memory:
    if not rows:
        return memory
    ids = np.array([r[0] for r in rows], np.int64)
    labels = np.array([r[1] for r in rows], np.int64)
    vectors = np.stack([np.frombuffer(r[2], np.float32) for r in rows])
    return memory.extended(ids, labels, vectors)
