"""The collector's serving settings: a larger young threshold, and every collection timed."""

from __future__ import annotations

import gc

from botrt import collector
from runtime import metrics


def _collections(generation: str) -> float:
    for family in metrics.GC_PAUSE.collect():
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("generation") == generation:
                return sample.value
    return 0.0


def test_serving_settings_raise_the_young_threshold_and_time_collections() -> None:
    before = gc.get_threshold()
    try:
        collector.tune_for_serving()
        young, older, oldest = gc.get_threshold()
        assert young == collector.YOUNG_THRESHOLD
        assert (older, oldest) == before[1:]
        counted = _collections("2")
        gc.collect()
        assert _collections("2") == counted + 1
        collector.tune_for_serving()  # idempotent: one callback, not two
        assert gc.callbacks.count(collector._observe) == 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        if collector._observe in gc.callbacks:
            gc.callbacks.remove(collector._observe)
