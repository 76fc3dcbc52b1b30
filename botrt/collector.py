"""The garbage collector's settings for a long-running server, and a metric of its pauses.

CPython's default (700, 10, 10) runs a young collection every 700 net container allocations.
A webhook turn allocates a few hundred (request, coroutines, futures, events, rows), so the
collector ran every two or three messages and walked whatever was in flight each time; at
saturation that was a quarter of the server's CPU (perf: gc_collect_main, visit_decref,
visit_reachable). Almost everything a turn allocates is freed by reference counting long before
any collection; a larger first threshold only lets the collector run less often. The older
generations keep their ratios, so a full collection stays as frequent, relative to the work,
as by default. docs/benchmarks.md, "Garbage collection", has the figures.
"""

from __future__ import annotations

import gc
import time
from typing import Any, Final

from runtime import metrics
from runtime.logging import get_logger

log = get_logger(__name__)

YOUNG_THRESHOLD: Final = 20_000
# A collection this long is worth a log line: it stalled every connection for that long.
SLOW_COLLECTION_S: Final = 0.05

_started: list[float] = []


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
        return
    if not _started:
        return
    took = time.perf_counter() - _started.pop()
    generation = info.get("generation", 0)
    metrics.child(metrics.GC_PAUSE, str(generation)).observe(took)
    if took >= SLOW_COLLECTION_S:
        log.warning(
            "gc.slow_collection", generation=generation, ms=round(took * 1000, 1), collected=info.get("collected")
        )


def tune_for_serving() -> None:
    """Freezes what start-up built, raises the young threshold and times every collection."""
    # Everything built so far lives as long as the process: keep the collector off it, so
    # full collections walk only what requests allocate.
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)
