"""Helpers for the Meta adapter tests: recorded payloads, signed requests, configs."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from adapters.base import RawRequest
from adapters.instagram import InstagramConfig
from adapters.whatsapp import WhatsAppConfig
from tests.fakes.meta import sign_meta

DATA: Final = Path(__file__).resolve().parents[2] / "data"
TOKEN: Final = "EAAG-test-access-token-not-real"
APP_SECRET: Final = "meta-app-secret-for-tests"
VERIFY_TOKEN: Final = "meatyhamhock"
PHONE_ID: Final = "106540352242922"
WA_ID: Final = "16505551234"
IG_ID: Final = "17841400008460056"
IGSID: Final = "1254459154682919"


def recorded(platform: str, name: str) -> bytes:
    """A recorded webhook body from tests/data/<platform>/<name>.json, byte for byte."""
    return (DATA / platform / f"{name}.json").read_bytes()


def post(body: bytes, *, secret: str | None = APP_SECRET, path: str = "/hooks/whatsapp/wa") -> RawRequest:
    """A webhook POST as the route handler would build it, signed with secret (None: unsigned)."""
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-hub-signature-256"] = sign_meta(secret, body)
    return RawRequest(method="POST", url=f"https://bots.example.com{path}", headers=headers, query=[], body=body)


def get(query: list[tuple[str, str]], path: str = "/hooks/whatsapp/wa") -> RawRequest:
    """A handshake GET."""
    return RawRequest(method="GET", url=f"https://bots.example.com{path}", headers={}, query=query, body=b"")


def wa_config(api_base: str = "https://graph.invalid/v23.0", **overrides: str) -> WhatsAppConfig:
    fields = {
        "slug": "wa",
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "phone_number_id": PHONE_ID,
        "api_base": api_base,
        "template_name": "reengage",
        **overrides,
    }
    return WhatsAppConfig(**fields)


def ig_config(api_base: str = "https://graph.invalid/v23.0") -> InstagramConfig:
    return InstagramConfig(
        slug="ig",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        ig_user_id=IG_ID,
        api_base=api_base,
    )
