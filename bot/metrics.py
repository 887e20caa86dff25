"""Prometheus counters the handlers update. Per process: with several replicas, Prometheus scrapes each."""

from __future__ import annotations

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
