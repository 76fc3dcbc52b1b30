"""NLU in the running system: predictions logged, the understood hook may rewrite, the router routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest

from runtime.config import Settings
from runtime.hooks import Continue, HookContext, HookRegistry, Rewrite
from tests.chat import ChatClient
from tests.conftest import REPO, LiveServer, start_server


class HumansOnSundays:
    """Rewrites any greeting into a request for a human (a plugin on the understood hook)."""

    name = "humans-on-sundays"

    async def on_understood(self, event: object, understanding: object, ctx: HookContext) -> object:
        if getattr(understanding, "intent", None) == "greet":
            return Rewrite(understanding=msgspec.structs.replace(understanding, intent="talk_to_human"))  # type: ignore[type-var]
        return Continue()


@pytest.fixture
async def bistro(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    bots = tmp_path / "bots"
    bots.mkdir()
    text = (REPO / "tests" / "data" / "nlu" / "bistro.toml").read_text()
    (bots / "bistro.toml").write_text(text.replace("[flow]", '[[channels]]\ntype = "webchat"\nslug = "bistro"\n\n[flow]', 1))
    hooks = HookRegistry()
    hooks.register(HumansOnSundays())
    server = await start_server(
        Settings(database_url=database_url, bots=str(bots), data_dir=str(tmp_path / "data")), hooks=hooks
    )
    yield server
    await server.close()


async def test_predictions_are_logged_and_the_router_follows_them(bistro: LiveServer) -> None:
    chat = await ChatClient.connect(bistro.ws_base, "bistro")
    await chat.reply_containing("How can I help?")
    await chat.say("what time do you open tomorrow?")
    await chat.reply_containing("12:00-22:00")
    await chat.say("hello there")  # greet, rewritten by the plugin into talk_to_human
    con = await asyncpg.connect(bistro.settings.database_url)
    try:
        for _ in range(50):
            rows = await con.fetch("SELECT text, intent_name, confidence FROM nlu_predictions ORDER BY created_at")
            if len(rows) == 2:
                break
            await asyncio.sleep(0.1)
        status = None
        for _ in range(50):
            status = await con.fetchval("SELECT status FROM conversations")
            if status == "handoff":
                break
            await asyncio.sleep(0.1)
    finally:
        await con.close()
    assert [(r["text"], r["intent_name"]) for r in rows] == [
        ("what time do you open tomorrow?", "opening_hours"),
        ("hello there", "talk_to_human"),
    ]
    assert 0 < rows[0]["confidence"] <= 1
    assert status == "handoff"
    await chat.close()
