"""A full handoff cycle: an operator takes over, the bot goes silent, a human answers, hands back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest

from runtime.config import Settings
from tests.chat import ChatClient
from tests.conftest import LiveServer, start_server

TOKEN = "operator-secret"


@pytest.fixture
async def desk_server(settings: Settings) -> AsyncIterator[LiveServer]:
    server = await start_server(msgspec.structs.replace(settings, admin_token=TOKEN))
    yield server
    await server.close()


async def api(server: LiveServer, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.base_url + path, json=body, headers=headers) as response:
            return response.status, await response.json()


async def conversation_of(server: LiveServer) -> str:
    con = await asyncpg.connect(server.settings.database_url)
    try:
        return str(await con.fetchval("SELECT id FROM conversations ORDER BY started_at DESC LIMIT 1"))
    finally:
        await con.close()


async def next_agent_frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            frame = json.loads((await ws.receive()).data)
            if frame["type"] == kind:
                return frame


async def test_full_handoff_cycle(desk_server: LiveServer) -> None:
    chat = await ChatClient.connect(desk_server.ws_base, "echo")
    await chat.reply_containing("Say something.")
    await chat.say("bot, are you there?")
    await chat.reply_containing("echo: bot, are you there?")
    conversation = await conversation_of(desk_server)

    async with aiohttp.ClientSession() as http:
        agent = await http.ws_connect(f"{desk_server.ws_base}/agent/ws?token={TOKEN}")
        queue = await next_agent_frame(agent, "queue")
        assert queue["handoffs"] == []

        status, body = await api(desk_server, "POST", f"/api/v1/conversations/{conversation}/handoff", {"reason": "VIP"})
        assert status == 202, body
        handoff = await next_agent_frame(agent, "handoff")
        assert handoff["conversation_id"] == conversation and handoff["reason"] == "VIP"
        status, listed = await api(desk_server, "GET", "/api/v1/handoffs")
        assert [h["conversation_id"] for h in listed["handoffs"]] == [conversation]

        # The bot stays silent; the agent sees what the user writes.
        await chat.say("I want a human")
        seen = await next_agent_frame(agent, "message")
        assert seen["text"] == "I want a human"
        await asyncio.sleep(0.3)
        assert not any(m["text"] == "echo: I want a human" for m in chat.messages)

        status, _ = await api(desk_server, "POST", f"/api/v1/conversations/{conversation}/messages", {"text": "Hi, Ana here."})
        assert status == 202
        await chat.reply_containing("Hi, Ana here.")
        await agent.send_str(json.dumps({"type": "reply", "conversation_id": conversation, "text": "How can I help?"}))
        await chat.reply_containing("How can I help?")

        await agent.send_str(json.dumps({"type": "return", "conversation_id": conversation}))
        returned = await next_agent_frame(agent, "returned")
        assert returned["conversation_id"] == conversation
        await chat.say("back to you, bot")
        await chat.reply_containing("echo: back to you, bot")
        await agent.close()

    seqs = [m["seq"] for m in chat.messages]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    con = await asyncpg.connect(desk_server.settings.database_url)
    try:
        row = await con.fetchrow("SELECT status, reason, requested_by, resolved_at FROM handoffs")
        human = await con.fetchval("SELECT count(*) FROM messages WHERE direction = 'outbound' AND text LIKE 'H%'")
    finally:
        await con.close()
    assert row["status"] == "returned" and row["reason"] == "VIP" and row["resolved_at"] is not None
    assert human == 2  # both agent messages persisted like any outbound message
    await chat.close()


async def test_operator_routes_need_the_token(desk_server: LiveServer, live_server: LiveServer) -> None:
    conversation = "00000000-0000-0000-0000-000000000000"
    assert (await api(desk_server, "GET", "/api/v1/handoffs", token=None))[0] == 401
    assert (await api(desk_server, "GET", "/api/v1/handoffs", token="wrong"))[0] == 403
    status, body = await api(live_server, "GET", "/api/v1/handoffs")  # BOTRT_ADMIN_TOKEN unset
    assert status == 403 and "BOTRT_ADMIN_TOKEN" in body["error"]["message"]
    status, body = await api(desk_server, "POST", f"/api/v1/conversations/{conversation}/messages", {"text": "x"})
    assert status == 404
    status, body = await api(desk_server, "POST", "/api/v1/conversations/not-a-uuid/messages", {"text": "x"})
    assert status == 404
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{desk_server.ws_base}/agent/ws?token=wrong")
        assert refused.value.status == 403


async def test_an_idle_conversation_ends_and_the_user_can_start_again(settings: Settings) -> None:
    server = await start_server(msgspec.structs.replace(settings, idle_timeout=1.0))
    try:
        chat = await ChatClient.connect(server.ws_base, "echo")
        await chat.reply_containing("Say something.")
        await chat.say("hello")
        await chat.reply_containing("echo: hello")
        con = await asyncpg.connect(settings.database_url)
        try:
            for _ in range(60):
                status = await con.fetchval("SELECT status FROM conversations")
                if status == "ended":
                    break
                await asyncio.sleep(0.1)
            assert status == "ended"
            assert await con.fetchval("SELECT ended_at IS NOT NULL FROM conversations")
            await chat.say("anyone?")
            # The flow starts over: its opening question again.
            await chat.next_frame(lambda f: f.get("type") == "message" and f["text"] == "Say something." and f["seq"] > 1)
            assert await con.fetchval("SELECT status FROM conversations") == "active"
        finally:
            await con.close()
        await chat.close()
    finally:
        await server.close()
