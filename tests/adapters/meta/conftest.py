"""Fixtures for the Meta adapters: a fake Graph API, an HTTP session, adapters pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.instagram import InstagramAdapter
from adapters.platform_http import PlatformHttp
from adapters.whatsapp import WhatsAppAdapter
from tests.adapters.meta.support import TOKEN, ig_config, wa_config
from tests.fakes.meta import FakeMeta


@pytest.fixture
async def fake() -> AsyncIterator[FakeMeta]:
    async with FakeMeta(access_token=TOKEN) as server:
        yield server


@pytest.fixture
def whatsapp(fake: FakeMeta, http: aiohttp.ClientSession, api: PlatformHttp | None) -> WhatsAppAdapter:
    return WhatsAppAdapter(wa_config(fake.api_base), http=http, api=api)


@pytest.fixture
def instagram(fake: FakeMeta, http: aiohttp.ClientSession, api: PlatformHttp | None) -> InstagramAdapter:
    return InstagramAdapter(ig_config(fake.api_base), http=http, api=api)
