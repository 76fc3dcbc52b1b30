"""Builds platform adapters from bot-file channel tables, secrets resolved from the environment."""

from __future__ import annotations

import importlib
from typing import Any, Final

import aiohttp
import msgspec

from adapters.base import ChannelAdapter
from adapters.platform_http import PlatformHttp
from engine.botfile import resolve_env
from runtime.errors import ConfigError
from runtime.outbox import ChannelSending

# kind -> (module, adapter class, config class)
ADAPTERS: Final[dict[str, tuple[str, str, str]]] = {
    "telegram": ("adapters.telegram", "TelegramAdapter", "TelegramConfig"),
    "whatsapp": ("adapters.whatsapp", "WhatsAppAdapter", "WhatsAppConfig"),
    "instagram": ("adapters.instagram", "InstagramAdapter", "InstagramConfig"),
    "slack": ("adapters.slack", "SlackAdapter", "SlackConfig"),
    "sms": ("adapters.sms", "SmsAdapter", "SmsConfig"),
}
# Keys of a channel table that are botrt's, not the platform adapter's.
COMMON_KEYS: Final = frozenset({"type", "allowed_origins", "max_send_rate", "max_recipient_rate", "burst"})
SECRET_KEYS: Final = frozenset(
    {"token", "secret_token", "access_token", "app_secret", "verify_token", "bot_token", "signing_secret", "auth_token"}
)


def build_adapter(
    kind: str, table: dict[str, Any], http: aiohttp.ClientSession, api: PlatformHttp | None = None
) -> ChannelAdapter:
    """The adapter of one channel; a bad or missing key is a ConfigError naming the channel."""
    if kind not in ADAPTERS:
        raise ConfigError(f"channel {table.get('slug')!r}", f"type {kind!r} has no adapter yet")
    module_name, adapter_name, config_name = ADAPTERS[kind]
    module = importlib.import_module(module_name)
    settings = {k: v for k, v in resolve_env(table).items() if k not in COMMON_KEYS}
    try:
        config = msgspec.convert(settings, getattr(module, config_name), strict=False)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ConfigError(f"channel {table.get('slug')!r} ({kind})", str(exc)) from exc
    # api: the lean keep-alive client for the send path's API calls (adapters.platform_http);
    # without it (botrt channels register) the adapter calls through the aiohttp session.
    adapter: ChannelAdapter = getattr(module, adapter_name)(config, http=http, api=api)
    return adapter


def sending_for(adapter: ChannelAdapter, table: dict[str, Any]) -> ChannelSending:
    """Send rates: the platform's documented limits unless the channel table overrides them.

    Overrides exist for accounts with higher limits (Telegram paid broadcasts, WhatsApp
    throughput tiers) and for load tests against a fake platform.
    """
    limits = adapter.limits
    template = None
    if table.get("template_name"):
        template = (str(table["template_name"]), str(table.get("template_language", "en_US")))
    return ChannelSending(
        sender=adapter,
        per_channel=float(table.get("max_send_rate", limits.per_channel)),
        per_recipient=float(table.get("max_recipient_rate", limits.per_recipient)),
        burst=int(table.get("burst", limits.burst)),
        service_window=24 * 3600.0 if adapter.kind == "whatsapp" else None,
        template=template,
    )


def redacted(table: dict[str, Any]) -> dict[str, Any]:
    """The channel table safe to store in bot_channels.config and to log: no secret values."""
    return {k: ("[secret]" if k in SECRET_KEYS else v) for k, v in table.items()}
