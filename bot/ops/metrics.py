"""Prometheus counters the handlers update. Per process: with several replicas, Prometheus scrapes each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

UPDATES = Counter("digitbot_updates_total", "Updates received", ["kind"])
REPLY_LATENCY = Histogram(
    "digitbot_reply_latency_seconds", "From receiving a photo to the answer being sent", buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10)
)
PREDICTIONS = Counter("digitbot_predictions_total", "Digits read, by digit ('none' when no digit)", ["digit"])
LOW_CONFIDENCE = Counter("digitbot_low_confidence_answers_total", "Answers given below the confidence threshold")
CORRECTIONS = Counter("digitbot_corrections_total", "Feedback stored, by kind", ["kind"])
ERRORS = Counter("digitbot_errors_total", "Errors caught by the global error handler")
MEMORY = Counter(
    "digitbot_memory_events_total",
    "The per-person memory: corrections remembered after Yes, declined, and dropped ('not this time')",
    ["event"],
)
STAGE = Histogram(
    "digitbot_photo_stage_seconds",
    "Where a photo's time goes: waiting (inbox, read_wait, lane, turn) and working (the other stages)",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time one stage of a photo's path into :data:`STAGE`."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STAGE.labels(name).observe(time.perf_counter() - started)
