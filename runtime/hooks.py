"""The plugin API: declared hook points, typed results, isolation of failing plugins.

A plugin is any object with a ``name`` and async methods named ``on_<hook>`` for the hook
points it implements. Registration checks each method against the declared spec, so a typo
in a hook name or a wrong parameter list fails at start-up with the plugin's name.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Final, Protocol, final, runtime_checkable

import msgspec

from runtime import metrics
from runtime.errors import PluginError
from runtime.events import Inbound, InboundMessage, Outbound, OutboundMessage, OutboundText
from runtime.logging import get_logger

log = get_logger(__name__)

ENTRY_POINT_GROUP: Final = "botrt.plugins"

# Hook point -> parameter names after self. Order is pipeline order.
HOOK_SPECS: Final[dict[str, tuple[str, ...]]] = {
    "startup": (),
    "inbound": ("event", "ctx"),
    "understood": ("event", "understanding", "ctx"),
    "before_agent": ("request", "ctx"),
    "after_agent": ("response", "ctx"),
    "tool_call": ("call", "ctx"),
    "outbound": ("event", "ctx"),
    "sent": ("event", "result", "ctx"),
    "conversation_started": ("ctx",),
    "conversation_ended": ("ctx",),
    "handoff": ("ctx",),
    "error": ("error", "ctx"),
    "shutdown": (),
}


# ---- results -------------------------------------------------------------------------------


class Continue(msgspec.Struct, frozen=True):
    """Go on with the event unchanged."""


class Replace(msgspec.Struct, frozen=True):
    """Go on with this event instead."""

    event: Inbound | Outbound


class Drop(msgspec.Struct, frozen=True):
    """Stop here; the event goes no further."""

    reason: str


class Reply(msgspec.Struct, frozen=True):
    """Answer directly with these messages, skipping the engine (inbound only)."""

    messages: tuple[OutboundText, ...]


class Rewrite(msgspec.Struct, frozen=True):
    """From an understood hook: use this understanding (intent, entities) instead."""

    understanding: Any


HookResult = Continue | Replace | Drop | Reply | Rewrite
CONTINUE: Final = Continue()


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class HookContext:
    """What a hook may know about the turn it runs in."""

    org_id: str
    bot_id: str
    bot_slug: str
    conversation_id: str
    channel_kind: str
    slots: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Plugin(Protocol):
    """Anything with a name; hook methods are found by their on_<hook> names."""

    name: str


@final
@dataclass(slots=True)
class _Registration:
    plugin: Plugin
    priority: int
    errors: int = 0
    disabled: bool = False


@final
class HookRegistry:
    """Holds plugins ordered by priority and calls their hooks with isolation."""

    def __init__(self, *, timeout: float = 2.0, max_errors: int = 5) -> None:
        self._timeout = timeout
        self._max_errors = max_errors
        self._registrations: list[_Registration] = []
        self._by_hook: dict[str, list[tuple[_Registration, Callable[..., Awaitable[Any]]]]] = {
            name: [] for name in HOOK_SPECS
        }
        self._frozen = False

    def register(self, plugin: Plugin, *, priority: int = 100) -> None:
        """Adds a plugin; lower priority runs first. Raises PluginError on a bad hook."""
        if self._frozen:
            raise PluginError(getattr(plugin, "name", repr(plugin)), "registry is frozen; register before start")
        name = getattr(plugin, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(repr(plugin), "a plugin needs a non-empty str attribute 'name'")
        registration = _Registration(plugin=plugin, priority=priority)
        found: list[tuple[str, Callable[..., Awaitable[Any]]]] = []
        for attr in dir(plugin):
            if not attr.startswith("on_"):
                continue
            hook = attr[3:]
            method = getattr(plugin, attr)
            if hook not in HOOK_SPECS:
                raise PluginError(name, f"unknown hook {attr!r}; known: {', '.join('on_' + h for h in HOOK_SPECS)}")
            if not inspect.iscoroutinefunction(method):
                raise PluginError(name, f"{attr} must be an async function")
            params = tuple(inspect.signature(method).parameters)
            if params != HOOK_SPECS[hook]:
                raise PluginError(name, f"{attr} takes {params}, the spec is {HOOK_SPECS[hook]}")
            found.append((hook, method))
        self._registrations.append(registration)
        for hook, method in found:
            self._by_hook[hook].append((registration, method))
            self._by_hook[hook].sort(key=lambda pair: pair[0].priority)

    def freeze(self) -> None:
        """No registration after start: the hook chains are fixed."""
        self._frozen = True

    @property
    def plugins(self) -> Sequence[Plugin]:
        return [r.plugin for r in self._registrations]

    def has(self, hook: str) -> bool:
        return any(not reg.disabled for reg, _ in self._by_hook[hook])

    async def _call(self, registration: _Registration, method: Callable[..., Awaitable[Any]], hook: str, *args: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                result = await method(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin must not take the pipeline down
            registration.errors += 1
            metrics.PLUGIN_ERRORS.labels(plugin=registration.plugin.name, hook=hook).inc()
            log.warning(
                "plugin.failed",
                plugin=registration.plugin.name,
                hook=hook,
                error=repr(exc),
                errors=registration.errors,
            )
            if registration.errors >= self._max_errors:
                registration.disabled = True
                log.error("plugin.disabled", plugin=registration.plugin.name, errors=registration.errors)
            return None
        registration.errors = 0
        return result

    async def notify(self, hook: str, *args: Any) -> None:
        """Calls every plugin's hook for its side effects (startup, sent, shutdown, ...)."""
        for registration, method in self._by_hook[hook]:
            if not registration.disabled:
                await self._call(registration, method, hook, *args)

    async def run_inbound(self, event: InboundMessage, ctx: HookContext) -> HookResult | InboundMessage:
        """Runs the inbound chain: returns the (maybe replaced) event, a Drop or a Reply."""
        for registration, method in self._by_hook["inbound"]:
            if registration.disabled:
                continue
            result = await self._call(registration, method, "inbound", event, ctx)
            match result:
                case Replace(event=replaced) if isinstance(replaced, InboundMessage):
                    event = replaced
                case Drop() | Reply():
                    return result
                case _:
                    pass  # Continue, or a failed/misbehaving hook: keep going unchanged
        return event

    async def run_understood(self, event: InboundMessage, understanding: Any, ctx: HookContext) -> Any:
        """Runs the understood chain: each Rewrite replaces the understanding for the next."""
        for registration, method in self._by_hook["understood"]:
            if registration.disabled:
                continue
            result = await self._call(registration, method, "understood", event, understanding, ctx)
            if isinstance(result, Rewrite):
                understanding = result.understanding
        return understanding

    async def run_value(self, hook: str, value: Any, ctx: HookContext, *, stop: type | None = None) -> Any:
        """A chain over one value (before_agent, after_agent, tool_call): a plugin returns the value
        to go on with (a Rewrite, or an object of the value's own type); an instance of stop ends
        the chain and is returned (tool_call: a ToolResult answers the call without the tool)."""
        for registration, method in self._by_hook[hook]:
            if registration.disabled:
                continue
            result = await self._call(registration, method, hook, value, ctx)
            if stop is not None and isinstance(result, stop):
                return result
            if isinstance(result, Rewrite):
                value = result.understanding
            elif result is not None and isinstance(result, type(value)):
                value = result
        return value

    async def run_outbound(self, event: OutboundMessage, ctx: HookContext) -> OutboundMessage | None:
        """Runs the outbound chain: returns the (maybe replaced) event, or None when dropped."""
        for registration, method in self._by_hook["outbound"]:
            if registration.disabled:
                continue
            result = await self._call(registration, method, "outbound", event, ctx)
            match result:
                case Replace(event=replaced) if isinstance(replaced, OutboundMessage):
                    event = replaced
                case Drop():
                    return None
                case _:
                    pass
        return event


def load_entry_point_plugin(name: str) -> Plugin:
    """Instantiates the plugin registered under entry-point group botrt.plugins by name."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory = ep.load()
            plugin = factory() if callable(factory) and not isinstance(factory, Plugin) else factory
            if not isinstance(plugin, Plugin):
                raise PluginError(name, f"entry point {ep.value} did not give a plugin object")
            return plugin
    raise PluginError(name, f"no plugin named {name!r} in entry-point group {ENTRY_POINT_GROUP!r}; is it installed?")
