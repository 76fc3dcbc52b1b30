"""The demo bot as `botrt up` serves it: intents, its knowledge base with citations, handoff."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.chat import ChatClient
from tests.conftest import LiveServer


async def test_demo_answers_a_question_from_its_knowledge_base(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "demo")
    await chat.reply_containing("What's your name?")
    await chat.say("Lin")
    await chat.reply_containing("What would you like to do, Lin?")
    await chat.say("How do I connect my Telegram bot?")
    answer = await chat.reply_containing("setWebhook", timeout=30)
    assert "Source:" in answer["text"] and "Channels" in answer["text"]
    await chat.say("tell me a fun fact")
    await chat.reply_containing("three hearts")
    await chat.close()


async def test_demo_hands_over_to_a_human_on_request(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "demo")
    await chat.reply_containing("What's your name?")
    await chat.say("Sam")
    await chat.reply_containing("What would you like to do, Sam?")
    await chat.send_frame({"type": "postback", "payload": "/human", "title": "Talk to a human", "client_id": "h1"})
    await chat.reply_containing("getting a colleague")
    con = await asyncpg.connect(live_server.settings.database_url)
    try:
        for _ in range(50):
            if await con.fetchval("SELECT count(*) FROM handoffs WHERE status = 'requested'") == 1:
                break
            await asyncio.sleep(0.1)
        assert await con.fetchval("SELECT reason FROM handoffs") == "asked for a human in the demo"
    finally:
        await con.close()
    await chat.close()
