"""Fixtures for the agent tests: the fake OpenAI server, the real aiohttp transport, recorders."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from botrt.llm_transport import AiohttpTransport
from tests.engine.agents.support import MemoryMeter, MemoryRecorder
from tests.fakes.openai import FakeOpenAI


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key="sk-test") as server:
        yield server


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    async with AiohttpTransport() as http:
        yield http


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@pytest.fixture
def meter() -> MemoryMeter:
    return MemoryMeter()
