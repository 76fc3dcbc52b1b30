"""The in-process bus: lanes keyed by conversation, bounded queues, backpressure.

Events of one conversation always land in the same lane and a lane handles one event at a
time, so order within a conversation holds while lanes run in parallel. A full lane makes
``publish`` wait (backpressure reaches the socket or webhook that produced the event) and
``try_publish`` refuse, so memory stays bounded under any load.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, final

from runtime import metrics
from runtime.errors import BusClosed, BusSaturated
from runtime.logging import get_logger

log = get_logger(__name__)

E = TypeVar("E")


def lane_of(key: str, lanes: int) -> int:
    """Stable lane index of a key (crc32, the same in every process)."""
    return zlib.crc32(key.encode()) % lanes


@final
class LaneBus(Generic[E]):
    """Per-key ordered, cross-key parallel dispatch of events to one handler."""

    def __init__(
        self,
        *,
        handler: Callable[[E], Awaitable[None]],
        lanes: int = 64,
        queue_size: int = 256,
        name: str = "bus",
    ) -> None:
        self._handler = handler
        self._name = name
        self._queues: list[asyncio.Queue[object]] = [asyncio.Queue(maxsize=queue_size) for _ in range(lanes)]
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = False
        # Queued events, kept as a count so saturation checks on every request cost nothing.
        self._depth = 0
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def lanes(self) -> int:
        return len(self._queues)

    def depth(self) -> int:
        """Events waiting in all lanes (not counting those being handled)."""
        return self._depth

    def start(self) -> None:
        """Starts one named task per lane."""
        if self._tasks:
            return
        for index, queue in enumerate(self._queues):
            task = asyncio.create_task(self._run_lane(queue), name=f"{self._name}-lane-{index}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._accepting = True

    async def publish(self, key: str, event: E) -> None:
        """Queues the event on its key's lane, waiting while that lane is full."""
        if not self._accepting:
            raise BusClosed(f"{self._name} is not accepting events")
        self._mark_busy()
        try:
            await self._queues[lane_of(key, len(self._queues))].put(event)
        except BaseException:
            self._mark_done()  # cancelled while waiting for room: it never got in
            raise
        self._depth += 1
        metrics.QUEUE_DEPTH.inc()

    def try_publish(self, key: str, event: E) -> None:
        """Queues the event or raises BusSaturated at once when its lane is full."""
        if not self._accepting:
            raise BusClosed(f"{self._name} is not accepting events")
        lane = lane_of(key, len(self._queues))
        try:
            self._queues[lane].put_nowait(event)
        except asyncio.QueueFull:
            raise BusSaturated(lane) from None
        self._mark_busy()
        self._depth += 1
        metrics.QUEUE_DEPTH.inc()

    def _mark_busy(self) -> None:
        self._in_flight += 1
        self._idle.clear()

    def _mark_done(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    async def _run_lane(self, queue: asyncio.Queue[object]) -> None:
        while True:
            item = await queue.get()
            self._depth -= 1
            metrics.QUEUE_DEPTH.dec()
            try:
                await self._handler(item)  # type: ignore[arg-type]
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad event must not stop the lane
                metrics.PIPELINE_ERRORS.labels(stage="bus").inc()
                log.exception("bus.handler_failed", bus=self._name)
            finally:
                self._mark_done()

    async def drain(self, timeout: float) -> bool:
        """Stops accepting and waits for queued and in-flight events; False on timeout."""
        self._accepting = False
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            log.warning("bus.drain_timeout", bus=self._name, left=self._in_flight)
            return False
        return True

    async def stop(self) -> None:
        """Ends the lane tasks after what they hold; call drain first for a clean stop."""
        self._accepting = False
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
