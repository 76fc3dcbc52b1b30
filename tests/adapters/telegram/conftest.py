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


@pytest.fixture
def adapter(fake: FakeTelegram, http: aiohttp.ClientSession, api: PlatformHttp | None) -> TelegramAdapter:
    """The adapter on either transport (the shared api fixture): aiohttp, or the runtime's lean client."""
    config = TelegramConfig(token=fake.token, slug="demo", secret_token=SECRET, api_base=fake.api_base)
    return TelegramAdapter(config, http=http, timeout=2.0, api=api)
