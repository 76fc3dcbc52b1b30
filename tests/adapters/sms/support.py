"""Helpers of the SMS tests: recorded form bodies and requests as the route builds them."""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl

from adapters.base import RawRequest

DATA: Final = Path(__file__).resolve().parents[2] / "data" / "sms"
HOOK_URL: Final = "https://bots.example.com/hooks/sms/support"
FORM: Final = "application/x-www-form-urlencoded"


def recorded(name: str) -> bytes:
    """A recorded form body from tests/data/sms (parameters as Twilio's webhook docs list them)."""
    return (DATA / f"{name}.txt").read_bytes()


def recorded_params(name: str) -> list[tuple[str, str]]:
    return parse_qsl(recorded(name).decode(), keep_blank_values=True)


def form_request(body: bytes, *, url: str = HOOK_URL, signature: str | None = None, **headers: str) -> RawRequest:
    """A form POST as the route hands it to the adapter (header names lower-cased)."""
    all_headers = {"content-type": FORM, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if signature is not None:
        all_headers["x-twilio-signature"] = signature
    return RawRequest(method="POST", url=url, headers=all_headers, query=_query(url), body=body)


def get_request(url: str, *, signature: str | None = None) -> RawRequest:
    headers = {"x-twilio-signature": signature} if signature is not None else {}
    return RawRequest(method="GET", url=url, headers=headers, query=_query(url), body=b"")


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(url.partition("?")[2], keep_blank_values=True)
