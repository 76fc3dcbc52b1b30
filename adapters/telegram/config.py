"""A Telegram channel's settings, checked when built."""

from __future__ import annotations

import re
from typing import Final

import msgspec

from runtime.errors import ConfigError

DEFAULT_API_BASE: Final = "https://api.telegram.org"
# setWebhook: secret_token is "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."
_SECRET_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The token goes into the URL path (/bot<token>/method), so it must not be able to change the path.
_BOT_TOKEN: Final = re.compile(r"[A-Za-z0-9:_-]+")


class TelegramConfigError(ConfigError, ValueError):
    """A Telegram setting is malformed; names the setting, never echoes a secret."""


def validate_secret_token(value: str) -> str:
    """Returns the webhook secret token if Telegram would accept it, else raises TelegramConfigError."""
    if not _SECRET_TOKEN.fullmatch(value):
        raise TelegramConfigError(
            "secret_token",
            f"must be 1-256 characters of A-Z a-z 0-9 _ - (got {len(value)} characters"
            f"{', some outside that set' if value and len(value) <= 256 else ''})",
        )
    return value


class TelegramConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One bot's token, its webhook secret and where the Bot API lives."""

    token: str
    slug: str
    secret_token: str | None = None
    api_base: str = DEFAULT_API_BASE

    def __post_init__(self) -> None:
        if not _BOT_TOKEN.fullmatch(self.token):
            raise TelegramConfigError("token", "must be a Bot API token like 123456:ABC-DEF (letters, digits, : _ -)")
        if self.secret_token is not None:
            validate_secret_token(self.secret_token)
        if not self.api_base.startswith(("http://", "https://")):
            raise TelegramConfigError("api_base", f"must be an http(s) URL, got {self.api_base!r}")

    def __repr__(self) -> str:
        # Configs end up in logs and tracebacks; the token and secret must not.
        secret = None if self.secret_token is None else "'***'"
        return f"TelegramConfig(slug={self.slug!r}, api_base={self.api_base!r}, token='***', secret_token={secret})"
