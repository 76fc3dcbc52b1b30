"""Fixtures: a fake Twilio Messages API on loopback and an adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.platform_http import PlatformHttp
from adapters.sms import SmsAdapter, SmsConfig
from tests.fakes.twilio import FROM_NUMBER, FakeTwilio


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
def config(fake: FakeTwilio) -> SmsConfig:
    return SmsConfig(
        slug="support",
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=FROM_NUMBER,
        api_base=fake.api_base,
    )


@pytest.fixture
def adapter(config: SmsConfig, http: aiohttp.ClientSession, api: PlatformHttp | None) -> SmsAdapter:
    return SmsAdapter(config, http=http, timeout=2.0, api=api)


@pytest.fixture
def parser(http: aiohttp.ClientSession) -> SmsAdapter:
    """An adapter for verify/parse tests, keyed by the token of the twilio-python vectors."""
    config = SmsConfig(
        slug="support", account_sid="AC00000000000000000000000000000001", auth_token="12345", from_number="+15005550006"
    )
    return SmsAdapter(config, http=http)
