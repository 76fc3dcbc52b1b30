from __future__ import annotations

import asyncio
import time

import pytest

from runtime.errors import PluginError
from runtime.events import InboundText
from runtime.hooks import Continue, Drop, HookContext, HookRegistry

CTX = HookContext(org_id="o", bot_id="b", bot_slug="bot", conversation_id="c", channel_kind="webchat")
EVENT = InboundText(
    event_id="e", org_id="o", conversation_id="c", channel_id="ch", channel_kind="webchat",
    ts=time.time(), external_id="x", text="hi",
)


class Typo:
    name = "typo"

    async def on_inbund(self, event: InboundText, ctx: HookContext) -> Continue:
        return Continue()


class WrongParams:
    name = "wrong"

    async def on_inbound(self, message: InboundText) -> Continue:
        return Continue()


class NotAsync:
    name = "sync"

    def on_inbound(self, event: InboundText, ctx: HookContext) -> Continue:
        return Continue()


@pytest.mark.parametrize("plugin", [Typo(), WrongParams(), NotAsync()])
def test_a_malformed_plugin_is_refused_with_its_name(plugin: object) -> None:
    with pytest.raises(PluginError) as caught:
        HookRegistry().register(plugin)  # type: ignore[arg-type]
    assert caught.value.plugin == plugin.name  # type: ignore[attr-defined]


def test_no_registration_after_start() -> None:
    registry = HookRegistry()
    registry.freeze()
    with pytest.raises(PluginError):
        registry.register(Typo())  # type: ignore[arg-type]


class Flaky:
    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def on_inbound(self, event: InboundText, ctx: HookContext) -> Continue:
        self.calls += 1
        raise RuntimeError("plugin bug")


class Slow:
    name = "slow"

    async def on_inbound(self, event: InboundText, ctx: HookContext) -> Drop:
        await asyncio.sleep(10)
        return Drop(reason="never")


class Order:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def on_inbound(self, event: InboundText, ctx: HookContext) -> Continue:
        self.log.append(self.name)
        return Continue()


async def test_failing_plugin_is_isolated_then_switched_off() -> None:
    registry = HookRegistry(max_errors=3)
    flaky = Flaky()
    registry.register(flaky)
    for _ in range(5):
        assert await registry.run_inbound(EVENT, CTX) == EVENT
    assert flaky.calls == 3
    assert not registry.has("inbound")


async def test_a_slow_hook_times_out_and_the_event_goes_on() -> None:
    registry = HookRegistry(timeout=0.05)
    registry.register(Slow())
    assert await registry.run_inbound(EVENT, CTX) == EVENT


async def test_priority_orders_plugins() -> None:
    log: list[str] = []
    registry = HookRegistry()
    registry.register(Order("late", log), priority=200)
    registry.register(Order("early", log), priority=10)
    await registry.run_inbound(EVENT, CTX)
    assert log == ["early", "late"]
