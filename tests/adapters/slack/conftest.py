"""Fixtures: a fake Slack Web API on loopback and an adapter pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.platform_http import PlatformHttp
from adapters.slack import SlackAdapter, SlackConfig
from tests.adapters.slack.support import SECRET
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(signing_secret=SECRET) as server:
        yield server


@pytest.fixture
def config(fake: FakeSlack) -> SlackConfig:
    return SlackConfig(slug="team", bot_token=fake.bot_token, signing_secret=SECRET, api_base=fake.api_base)


@pytest.fixture
def adapter(config: SlackConfig, http: aiohttp.ClientSession, api: PlatformHttp | None) -> SlackAdapter:
    return SlackAdapter(config, http=http, timeout=2.0, api=api)
