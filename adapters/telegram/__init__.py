"""Telegram Bot API: webhook updates in, Bot API calls out."""

from adapters.telegram.adapter import ALLOWED_UPDATES, TelegramAdapter
from adapters.telegram.config import TelegramConfig, TelegramConfigError, validate_secret_token
from adapters.telegram.render import callback_data

__all__ = [
    "ALLOWED_UPDATES",
    "TelegramAdapter",
    "TelegramConfig",
    "TelegramConfigError",
    "callback_data",
    "validate_secret_token",
]
