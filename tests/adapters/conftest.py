"""Fixtures every adapter's tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.platform_http import PlatformHttp


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["aiohttp", "platform_http"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[PlatformHttp | None]:
    """The transport of the adapters' API calls: None (the aiohttp session) or the lean client
    the runtime gives them; the send tests run on both."""
    if request.param == "aiohttp":
        yield None
        return
    client = PlatformHttp()
    yield client
    await client.close()
