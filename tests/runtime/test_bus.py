from __future__ import annotations

import asyncio
import random

import pytest

from runtime.bus import LaneBus, lane_of
from runtime.errors import BusClosed, BusSaturated


async def test_order_within_a_key_and_parallelism_across_keys() -> None:
    seen: dict[str, list[int]] = {}
    running = 0
    peak = 0

    async def handler(item: tuple[str, int]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(random.random() / 1000)
        seen.setdefault(item[0], []).append(item[1])
        running -= 1

    bus: LaneBus[tuple[str, int]] = LaneBus(handler=handler, lanes=16, queue_size=1000)
    bus.start()
    keys = [f"conversation-{i}" for i in range(50)]
    for n in range(20):
        for key in keys:
            await bus.publish(key, (key, n))
    assert await bus.drain(10)
    await bus.stop()
    assert seen == {key: list(range(20)) for key in keys}
    assert peak > 1


async def test_a_full_lane_refuses_or_waits_and_memory_stays_bounded() -> None:
    gate = asyncio.Event()

    async def handler(item: int) -> None:
        await gate.wait()

    bus: LaneBus[int] = LaneBus(handler=handler, lanes=1, queue_size=2)
    bus.start()
    bus.try_publish("k", 0)
    await asyncio.sleep(0)  # the lane takes item 0 and blocks on the gate
    bus.try_publish("k", 1)
    bus.try_publish("k", 2)
    with pytest.raises(BusSaturated):
        bus.try_publish("k", 3)
    assert bus.depth() == 2
    waiting = asyncio.create_task(bus.publish("k", 4))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # backpressure: the producer waits
    gate.set()
    await asyncio.wait_for(waiting, 1)
    assert await bus.drain(1)
    with pytest.raises(BusClosed):
        await bus.publish("k", 5)
    await bus.stop()


async def test_a_failing_handler_does_not_stop_the_lane() -> None:
    handled: list[int] = []

    async def handler(item: int) -> None:
        if item == 1:
            raise ValueError("boom")
        handled.append(item)

    bus: LaneBus[int] = LaneBus(handler=handler, lanes=1, queue_size=10)
    bus.start()
    for item in range(3):
        await bus.publish("k", item)
    assert await bus.drain(1)
    await bus.stop()
    assert handled == [0, 2]


def test_lanes_are_stable_across_processes() -> None:
    assert lane_of("abc", 64) == lane_of("abc", 64) == 0x352441C2 % 64
