"""Prometheus metrics of the pipeline, registered once at import."""

from __future__ import annotations

import functools
from typing import Final, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


@functools.cache
def child(metric: M, *values: str) -> M:
    """metric.labels(*values), looked up once: labels() costs ~2 us a call (validation, a lock),
    which on the webhook path, at several metrics a message, adds up. Label values here come
    from small fixed sets (channel kinds, writer names, outcomes), so the cache stays small."""
    return metric.labels(*values)

MESSAGES_IN: Final = Counter(
    "botrt_messages_in_total", "Inbound messages accepted (committed)", ["channel"]
)
MESSAGES_DUPLICATE: Final = Counter(
    "botrt_messages_duplicate_total", "Inbound redeliveries acknowledged and skipped", ["channel"]
)
MESSAGES_OUT: Final = Counter(
    "botrt_messages_out_total", "Outbound messages persisted for delivery", ["channel"]
)
PIPELINE_LATENCY: Final = Histogram(
    "botrt_pipeline_seconds",
    "From dequeue to outbound committed, per inbound event",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PIPELINE_ERRORS: Final = Counter(
    "botrt_pipeline_errors_total", "Events whose turn failed", ["stage"]
)
QUEUE_DEPTH: Final = Gauge("botrt_queue_depth", "Events waiting in bus lanes, all lanes")
COMMIT_BATCH: Final = Histogram(
    "botrt_commit_batch_size",
    "Items per group commit",
    ["writer"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
PLUGIN_ERRORS: Final = Counter(
    "botrt_plugin_errors_total", "Hook calls that raised or timed out", ["plugin", "hook"]
)
WEBCHAT_SESSIONS: Final = Gauge("botrt_webchat_sessions", "Open widget websockets")
MESSAGES_SENT: Final = Counter(
    "botrt_messages_sent_total", "Outbound messages the platform accepted", ["channel"]
)
MESSAGES_DEAD: Final = Counter(
    "botrt_messages_dead_total", "Outbound messages given up on (dead letter)", ["channel"]
)
WEBHOOKS: Final = Counter(
    "botrt_webhooks_total", "Webhook requests by outcome", ["channel", "outcome"]
)
ACK_LATENCY: Final = Histogram(
    "botrt_webhook_ack_seconds",
    "From request read to response, per webhook",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0),
)
GC_PAUSE: Final = Histogram(
    "botrt_gc_pause_seconds",
    "Garbage collections by generation: the event loop stalls for each",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
