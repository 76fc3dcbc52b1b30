"""structlog configured once: console in a terminal, JSON otherwise, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final

import msgspec
import structlog

_ENCODER: Final = msgspec.json.Encoder(enc_hook=str)
SECRET_KEYS: Final = frozenset(
    {
        "token",
        "secret",
        "secret_key",
        "secret_token",
        "password",
        "api_key",
        "access_token",
        "auth_token",
        "app_secret",
        "signing_secret",
        "bot_token",
        "authorization",
    }
)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replaces the value of any key that names a secret."""
    for key in event_dict:
        if key.lower() in SECRET_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def _render_json(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
    return _ENCODER.encode(event_dict).decode()


def configure_logging(fmt: str | None = None, level: str = "info") -> None:
    """Configures structlog and stdlib logging; fmt is 'json', 'console' or None (auto)."""
    use_json = fmt == "json" or (fmt is None and not sys.stderr.isatty())
    renderer: Any = _render_json if use_json else structlog.dev.ConsoleRenderer()
    numeric_level = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries that log through stdlib (aiohttp access log, asyncpg) go to the same stream.
    logging.basicConfig(stream=sys.stderr, level=max(numeric_level, logging.WARNING), format="%(message)s")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger carrying the module name."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
