"""The model as the bot uses it: loaded once, run off the event loop, swapped when a new version lands.

Inference runs in a small thread pool, so one photo never stalls the updates of other
users. A hot reload replaces the predictor reference in one assignment: photos already
being read finish on the model they started with, and no update is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bot.ops import metrics
from model.reading import registry
from model.reading.memory import Memory, Vectors
from model.reading.predictor import Predictor, Reading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shipped:
    """The release's own models, and whether the registry follows its current version (``Settings``)."""

    path: Path
    follow: bool = False


class Reader:
    def __init__(self, model_path: Path, workers: int, shipped: Shipped | None = None) -> None:
        self.model_path = model_path
        self.shipped = shipped
        self.executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="inference")
        self._predictor: Predictor | None = None
        self._loaded: str | None = None  # the registry version loaded: cards may lack a version of their own
        self._refused: str | None = None  # a version published without its export
        self._loading = asyncio.Lock()  # /reload and the periodic check never load at once

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            raise RuntimeError("the model is not loaded yet")
        return self._predictor

    @property
    def version(self) -> str:
        return self._predictor.version if self._predictor else "none"

    async def load(self) -> None:
        """Adopt the release's models, then load the current version; a version without its ONNX
        export is refused with the one line that says how to make it."""
        async with self._loading:
            await asyncio.to_thread(self._adopt)
            try:
                await self._load(await asyncio.to_thread(self.published_version))
            except registry.NotExported as refused:
                log.error("%s", refused)
                raise
        log.info("model %s loaded from %s", self.version, self.model_path)

    async def _load(self, version: str | None) -> None:
        """Load exactly ``version`` (not whatever the pointer says by the time the file is read)."""
        path = self.model_path / f"{version}.safetensors" if version is not None else self.model_path
        self._predictor = await asyncio.get_running_loop().run_in_executor(self.executor, Predictor.load, path)
        self._loaded = version

    async def read(self, data: bytes, memory: Memory | None = None) -> Reading:
        """Read a photo, checked against a person's memory (the predictor uses it only when its own model made it).
        The time it waits for a worker and the time it is read are counted apart (``read_wait``, ``read``)."""
        predictor, queued = self.predictor, time.perf_counter()

        def work() -> Reading:
            metrics.STAGE.labels("read_wait").observe(time.perf_counter() - queued)
            with metrics.stage("read"):
                return predictor.predict(data, memory)

        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    async def embed(self, inputs: NDArray[np.uint8]) -> tuple[str, Vectors]:
        """Memory vectors of stored 28x28 inputs, and the model version that made them."""
        predictor = self.predictor
        return predictor.version, await asyncio.get_running_loop().run_in_executor(self.executor, predictor.embed, inputs)

    def _adopt(self) -> None:
        """The release's shipped versions into the registry (``registry.adopt``), said in the log: an
        upgraded image whose model never reached the volume would otherwise go unnoticed."""
        shipped, path = self.shipped, self.model_path
        if shipped is None or not shipped.path.is_dir() or path.is_file() or path.resolve() == shipped.path.resolve():
            return  # nothing shipped apart, or a single weights file to serve as it is
        done = registry.adopt(shipped.path, path, shipped.follow)
        if done.copied:
            log.info("shipped models copied into %s: %s", path, ", ".join(done.copied))
        for version in done.clashing:
            log.warning("shipped %s not copied: %s holds another model under that name (retrained here)", version, path)
        if done.moved_from is not None:
            log.info("current model moved %s -> %s (the release's)", done.moved_from, done.current)
        elif done.current != done.shipped:
            log.info(
                "current model stays %s; this release ships %s: FOLLOW_SHIPPED=true at start, or "
                "python -m scripts.models use %s, serves it",
                done.current,
                done.shipped,
                done.shipped,
            )

    def published_version(self) -> str | None:
        """The version the registry points at now, or None for a plain weights file."""
        if not self.model_path.is_dir():
            return None
        try:
            return registry.current_version(self.model_path)
        except FileNotFoundError:
            return None

    async def reload_if_changed(self) -> str | None:
        """Load the registry's current version if it is not the one loaded; returns the new version."""
        async with self._loading:
            published = await asyncio.to_thread(self.published_version)
            if published is None or published in (self._loaded, self._refused):
                return None
            old = self.version
            try:
                await self._load(published)
            except registry.NotExported as refused:
                log.error("not reloaded, still serving %s: %s", old, refused)
                self._refused = published  # said once, not at every check
                return None
        log.info("model reloaded: %s -> %s", old, self.version)
        return self.version

    def close(self) -> None:
        self.executor.shutdown(wait=True)
