"""Helpers shared by the Telegram tests: recorded Updates and webhook requests."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from adapters.base import RawRequest

DATA: Final = Path(__file__).resolve().parents[2] / "data" / "telegram"
SECRET: Final = "s3cret_Token-42"


def webhook(body: bytes, headers: dict[str, str] | None = None) -> RawRequest:
    """A webhook POST as the route handler hands it to the adapter (header names lower-cased)."""
    return RawRequest(
        method="POST",
        url="https://bots.example.com/webhooks/telegram/demo",
        headers={"content-type": "application/json", **(headers or {})},
        query=[],
        body=body,
    )


def recorded(name: str) -> bytes:
    """A recorded Update from tests/data/telegram."""
    return (DATA / f"{name}.json").read_bytes()
