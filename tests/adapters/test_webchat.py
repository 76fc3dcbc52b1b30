"""The widget websocket end to end: real client, real app, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
import websockets

from tests.chat import ChatClient
from tests.conftest import LiveServer


async def test_round_trip_greets_asks_name_and_answers_with_it(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "demo")
    greeting = await chat.reply_containing("What's your name?")
    assert [m["seq"] for m in chat.messages] == [1, 2]
    assert greeting["seq"] == 2
    await chat.say("Ada")
    hello = await chat.reply_containing("Nice to meet you, Ada!")
    menu = await chat.reply_containing("What would you like to do, Ada?")
    assert (hello["seq"], menu["seq"]) == (3, 4)
    assert [b["title"] for b in menu["buttons"]] == ["Hear a fact", "About botrt", "Talk to a human", "Start over"]
    await chat.send_frame({"type": "postback", "payload": "Hear a fact", "client_id": "p1"})
    await chat.next_frame(lambda f: f["type"] == "ack" and f["client_id"] == "p1")
    fact = await chat.reply_containing("three hearts")
    assert fact["seq"] == 5
    await chat.close()


async def test_every_message_is_persisted_before_it_is_acknowledged(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "echo")
    await chat.reply_containing("Say something.")
    await chat.ws.send(json.dumps({"type": "message", "text": "kept", "client_id": "k1"}))
    await chat.next_frame(lambda f: f["type"] == "ack")
    # The ack arrived: the inbound row must exist now, whatever happens to the turn.
    con = await asyncpg.connect(live_server.settings.database_url)
    try:
        inbound = await con.fetchval("SELECT count(*) FROM messages WHERE direction = 'inbound' AND text = 'kept'")
        assert inbound == 1
        await chat.reply_containing("echo: kept")
        rows = await con.fetch("SELECT direction, seq, text, status FROM messages ORDER BY created_at, seq")
    finally:
        await con.close()
    assert [(r["direction"], r["seq"], r["text"]) for r in rows] == [
        ("outbound", 1, "Say something."),
        ("inbound", None, "kept"),
        ("outbound", 2, "echo: kept"),
    ]
    assert rows[1]["status"] == "processed"
    await chat.close()


async def test_repeated_client_id_is_acked_again_and_not_processed_twice(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "echo")
    await chat.reply_containing("Say something.")
    first = await chat.say("once", client_id="same")
    await chat.reply_containing("echo: once")
    again = await chat.say("once", client_id="same")
    assert first.get("duplicate") is None and again["duplicate"] is True
    await chat.say("next", client_id="other")
    await chat.reply_containing("echo: next")
    echoes = [m["text"] for m in chat.messages if m["text"].startswith("echo:")]
    assert echoes == ["echo: once", "echo: next"]
    await chat.close()


async def test_resume_with_last_seq_replays_only_what_was_missed(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "echo")
    await chat.reply_containing("Say something.")
    await chat.say("one")
    await chat.reply_containing("echo: one")
    session = chat.session
    await chat.close()

    # While offline, nothing is lost: messages sent on a second socket of the session land.
    other = await ChatClient.connect(live_server.ws_base, "echo", session=session, last_seq=2)
    assert other.session == session
    await other.say("two")
    await other.reply_containing("echo: two")
    await other.say("three")
    await other.reply_containing("echo: three")
    await other.close()

    back = await ChatClient.connect(live_server.ws_base, "echo", session=session, last_seq=2)
    await back.reply_containing("echo: three")
    assert [(m["seq"], m["text"]) for m in back.messages] == [(3, "echo: two"), (4, "echo: three")]

    full = await ChatClient.connect(live_server.ws_base, "echo", session=session, last_seq=0)
    await full.reply_containing("echo: three")
    assert [m["seq"] for m in full.messages] == [1, 2, 3, 4]
    await back.close()
    await full.close()


async def test_unknown_session_starts_a_new_one(live_server: LiveServer) -> None:
    chat = await ChatClient.connect(live_server.ws_base, "demo", session="forged-or-expired")
    assert chat.session != "forged-or-expired"
    await chat.reply_containing("What's your name?")
    await chat.close()


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(live_server: LiveServer) -> None:
    ws = await websockets.connect(f"{live_server.ws_base}/chat/echo/ws")

    async def error_for(raw: str | bytes) -> dict[str, str]:
        await ws.send(raw)
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if frame["type"] == "error":
                return frame

    assert (await error_for(json.dumps({"type": "message", "text": "hi", "client_id": "x"})))["code"] == (
        "hello_required"
    )
    assert (await error_for("{not json"))["code"] == "invalid_json"
    assert (await error_for(json.dumps({"type": "subscribe"})))["code"] == "unknown_type"
    assert (await error_for(json.dumps({"no": "type"})))["code"] == "unknown_type"
    assert (await error_for(json.dumps({"type": "hello", "last_seq": "many"})))["code"] == "invalid_frame"
    assert (await error_for("x" * 20_000))["code"] == "too_large"
    assert (await error_for(b"\x00\x01"))["code"] == "unsupported"
    # Still open and working after all that.
    await ws.send(json.dumps({"type": "hello"}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert welcome["type"] == "welcome"
    assert (await error_for(json.dumps({"type": "message", "text": "", "client_id": "e"})))["code"] == "invalid_frame"
    assert (await error_for(json.dumps({"type": "message", "text": "y" * 5000, "client_id": "l"})))["code"] == (
        "too_large"
    )
    assert (await error_for(json.dumps({"type": "hello"})))["code"] == "duplicate_hello"
    await ws.send(json.dumps({"type": "message", "text": "still here", "client_id": "ok"}))
    async with asyncio.timeout(5):
        while json.loads(await ws.recv()).get("text") != "echo: still here":
            pass
    await ws.close()


async def test_origin_is_checked_against_allowed_origins(live_server: LiveServer) -> None:
    # echo allows https://shop.example only; demo allows same-origin only.
    chat = await ChatClient.connect(live_server.ws_base, "echo", origin="https://shop.example")
    await chat.close()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await ChatClient.connect(live_server.ws_base, "echo", origin="https://evil.example")
    assert refused.value.response.status_code == 403
    with pytest.raises(websockets.InvalidStatus):
        await ChatClient.connect(live_server.ws_base, "demo", origin="https://evil.example")
    same = await ChatClient.connect(live_server.ws_base, "demo", origin=live_server.base_url)
    await same.close()


async def test_unknown_channel_is_404(live_server: LiveServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as missing:
        await ChatClient.connect(live_server.ws_base, "nope")
    assert missing.value.response.status_code == 404


async def test_100_concurrent_conversations_lose_and_reorder_nothing(live_server: LiveServer) -> None:
    conversations, per_conversation = 100, 10

    async def converse(index: int) -> list[str]:
        chat = await ChatClient.connect(live_server.ws_base, "echo")
        await chat.reply_containing("Say something.")
        # Send everything without waiting for replies, so lanes really interleave.
        for j in range(per_conversation):
            await chat.send_frame({"type": "message", "text": f"{index}-{j}", "client_id": f"{index}-{j}"})
        last = f"echo: {index}-{per_conversation - 1}"
        await chat.next_frame(lambda f: f.get("text") == last, timeout=60)
        seqs = [m["seq"] for m in chat.messages]
        assert seqs == list(range(1, per_conversation + 2)), seqs
        acks = [f["client_id"] for f in chat.frames if f["type"] == "ack"]
        assert acks == [f"{index}-{j}" for j in range(per_conversation)]
        await chat.close()
        return [m["text"] for m in chat.messages[1:]]

    results = await asyncio.gather(*(converse(i) for i in range(conversations)))
    for index, echoes in enumerate(results):
        assert echoes == [f"echo: {index}-{j}" for j in range(per_conversation)]
    con = await asyncpg.connect(live_server.settings.database_url)
    try:
        counts = await con.fetchrow(
            "SELECT count(*) FILTER (WHERE direction = 'inbound') AS inbound,"
            " count(*) FILTER (WHERE direction = 'outbound') AS outbound,"
            " count(*) FILTER (WHERE status = 'pending') AS pending FROM messages"
        )
    finally:
        await con.close()
    assert dict(counts) == {
        "inbound": conversations * per_conversation,
        "outbound": conversations * (per_conversation + 1),
        "pending": 0,
    }
