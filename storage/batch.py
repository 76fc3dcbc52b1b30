"""Group commit: many callers' writes (or reads) in one transaction, each caller awaiting its result.

Writes queue up while a flush runs, so the next flush takes them all at once: latency stays
one commit at low load and batches grow with load, turning N round trips into one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar, final

import asyncpg

from runtime import metrics
from runtime.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

FlushFn = Callable[[asyncpg.Connection, Sequence[T]], Awaitable[Sequence[R]]]


@final
class GroupCommitter(Generic[T, R]):
    """Queues items and commits them in batches with ``flush`` inside one transaction."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        flush: FlushFn[T, R],
        name: str,
        max_batch: int = 256,
        linger: float = 0.001,
        max_queued: int = 10_000,
        flushers: int = 2,
        transaction: bool = True,
    ) -> None:
        self._pool = pool
        self._flush = flush
        self._name = name
        self._max_batch = max_batch
        self._linger = linger
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue(maxsize=max_queued)
        self._flushers = flushers
        # False: flush gets a bare connection and is itself atomic (one statement, or its own
        # transaction), which saves the BEGIN and COMMIT round trips.
        self._transaction = transaction
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        for index in range(self._flushers):
            task = asyncio.create_task(self._run(), name=f"{self._name}-flusher-{index}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def submit(self, item: T) -> R:
        """Commits the item with its batch and returns its result; raises if the commit failed."""
        if not self._tasks:
            raise RuntimeError(f"{self._name} writer is not running")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._take_ready(batch)
            if len(batch) < self._max_batch and self._linger > 0:
                await asyncio.sleep(self._linger)
                self._take_ready(batch)
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take_ready(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        metrics.child(metrics.COMMIT_BATCH, self._name).observe(len(items))
        try:
            async with self._pool.acquire() as con:
                if self._transaction:
                    async with con.transaction():
                        results = await self._flush(con, items)
                else:
                    results = await self._flush(con, items)
        except asyncio.CancelledError:
            for _, future in batch:
                if not future.done():
                    future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiter gets the failure
            log.warning("batch.commit_failed", writer=self._name, size=len(items), error=repr(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def stop(self, timeout: float = 10.0) -> None:
        """Commits what is queued (waiting up to timeout), then ends the flushers."""
        try:
            async with asyncio.timeout(timeout):
                await self._queue.join()
        except TimeoutError:
            log.warning("batch.stop_timeout", writer=self._name, queued=self._queue.qsize())
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
