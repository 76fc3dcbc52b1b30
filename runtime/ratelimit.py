"""Token buckets for send rates: one per channel, one per recipient (bounded LRU)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import final


@final
class TokenBucket:
    """rate tokens per second, up to burst; acquire waits for a token."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int = 1) -> None:
        self._rate = rate
        self._burst = float(max(1, burst))
        self._tokens = self._burst
        self._stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate

    async def acquire(self) -> None:
        while (wait := self.delay()) > 0:
            await asyncio.sleep(wait)
        self._tokens -= 1

    def pause(self, seconds: float) -> None:
        """The platform said slow down: no tokens for this long (Retry-After)."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self._rate


@final
class BucketMap:
    """A TokenBucket per key, the least recently used dropped beyond max_keys."""

    def __init__(self, rate: float, burst: int = 1, max_keys: int = 50_000) -> None:
        self._rate = rate
        self._burst = burst
        self._max = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def get(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket
