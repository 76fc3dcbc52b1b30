"""Helpers of the Slack tests: recorded payloads and signed requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from adapters.base import RawRequest
from tests.fakes.slack import interaction_body, slack_headers

DATA: Final = Path(__file__).resolve().parents[2] / "data" / "slack"
SECRET: Final = "8f742231b10e8888abcd99yyyzzz85a5"
HOOK_URL: Final = "https://bots.example.com/hooks/slack/team"


def recorded(name: str) -> bytes:
    """A recorded payload from tests/data/slack (shaped after docs.slack.dev's examples)."""
    return (DATA / f"{name}.json").read_bytes()


def recorded_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(recorded(name))
    return data


def request(body: bytes, *, form: bool = False, headers: dict[str, str] | None = None) -> RawRequest:
    """A POST as the route hands it to the adapter: header names lower-cased, unsigned."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return RawRequest(
        method="POST",
        url=HOOK_URL,
        headers={"content-type": content_type, **(headers or {})},
        query=[],
        body=body,
    )


def signed(body: bytes, *, ts: int, form: bool = False, secret: str = SECRET) -> RawRequest:
    """A request signed as Slack signs it (by the fake's independent signer)."""
    headers = {k.lower(): v for k, v in slack_headers(secret, body, ts=ts, form=form).items()}
    return request(body, form=form, headers=headers)


def interaction(payload: dict[str, Any]) -> RawRequest:
    """An unsigned interactivity request (form field `payload`)."""
    return request(interaction_body(payload), form=True)
