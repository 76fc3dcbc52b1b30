"""Fixtures: a fake Bot API on loopback and an adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.platform_http import PlatformHttp
from adapters.telegram import TelegramAdapter, TelegramConfig
from tests.adapters.telegram.support import SECRET
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture(params=["aiohttp", "platform_http"])
async def adapter(fake: FakeTelegram, request: pytest.FixtureRequest) -> AsyncIterator[TelegramAdapter]:
    """The adapter on either transport: the aiohttp session, or the lean client the runtime uses."""
    config = TelegramConfig(token=fake.token, slug="demo", secret_token=SECRET, api_base=fake.api_base)
    api = PlatformHttp() if request.param == "platform_http" else None
    async with aiohttp.ClientSession() as http:
        yield TelegramAdapter(config, http=http, timeout=2.0, api=api)
    if api is not None:
        await api.close()
