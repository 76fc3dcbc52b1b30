"""Typed errors shared across layers; each carries data, not just a string."""

from __future__ import annotations

from typing import ClassVar


class BotrtError(Exception):
    """Base of every error botrt raises on purpose."""


class ConfigError(BotrtError):
    """A setting is missing or malformed; names the variable and what to do."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class BusSaturated(BotrtError):
    """A lane's queue is full and the caller asked not to wait."""

    def __init__(self, lane: int) -> None:
        super().__init__(f"bus lane {lane} is full")
        self.lane = lane


class BusClosed(BotrtError):
    """The bus is draining or stopped and takes no new events."""


class PluginError(BotrtError):
    """A plugin is malformed (unknown hook, wrong signature); names the plugin."""

    def __init__(self, plugin: str, problem: str) -> None:
        super().__init__(f"plugin {plugin!r}: {problem}")
        self.plugin = plugin
        self.problem = problem


class ChannelError(BotrtError):
    """A platform interaction failed; says whether and when to retry (adapters subclass it)."""

    retryable: ClassVar[bool] = False
    # Set by platforms that refuse free-form messages outside a service window (WhatsApp).
    outside_service_window: ClassVar[bool] = False
    retry_after: float | None = None
