"""Restarts, crashes and shutdown: state and history survive, accepted messages are not lost."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

import aiohttp
import asyncpg

from runtime.config import Settings
from runtime.events import InboundMessage
from runtime.hooks import Continue, HookContext, HookRegistry
from tests.chat import ChatClient
from tests.conftest import REPO, start_server


async def test_state_and_history_survive_a_restart_of_the_app(settings: Settings) -> None:
    first = await start_server(settings)
    chat = await ChatClient.connect(first.ws_base, "demo")
    await chat.reply_containing("What's your name?")
    await chat.say("Grace")
    await chat.reply_containing("What would you like to do, Grace?")
    session = chat.session
    await chat.close()
    await first.close()

    second = await start_server(settings)
    again = await ChatClient.connect(second.ws_base, "demo", session=session, last_seq=0)
    assert again.session == session
    await again.reply_containing("What would you like to do, Grace?")
    assert [m["seq"] for m in again.messages] == [1, 2, 3, 4]
    # The flow goes on from where it was: the name slot is remembered.
    await again.say("About botrt")
    about = await again.reply_containing("PostgreSQL")
    assert about["seq"] == 5
    await again.reply_containing("What would you like to do, Grace?")
    await again.close()
    await second.close()


class _Stall:
    """Holds every inbound message until released: a turn that is in flight at a crash."""

    name = "stall"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.seen = asyncio.Event()

    async def on_inbound(self, event: InboundMessage, ctx: HookContext) -> Continue:
        self.seen.set()
        await self.release.wait()
        return Continue()


async def test_a_message_accepted_before_a_crash_is_answered_after_restart(settings: Settings) -> None:
    stall = _Stall()
    hooks = HookRegistry(timeout=60)
    hooks.register(stall)
    short_drain = Settings(**{**{f: getattr(settings, f) for f in settings.__struct_fields__}, "drain_timeout": 0.2})
    first = await start_server(short_drain, hooks=hooks)
    chat = await ChatClient.connect(first.ws_base, "echo")
    await chat.reply_containing("Say something.")
    await chat.say("survive me")  # acked: committed
    await asyncio.wait_for(stall.seen.wait(), 5)
    session = chat.session
    await chat.close()
    await first.close()  # the turn never finished: drain times out and the lane is cancelled

    con = await asyncpg.connect(settings.database_url)
    try:
        pending = await con.fetchval("SELECT count(*) FROM messages WHERE status = 'pending'")
    finally:
        await con.close()
    assert pending == 1

    second = await start_server(settings)
    back = await ChatClient.connect(second.ws_base, "echo", session=session, last_seq=1)
    reply = await back.reply_containing("echo: survive me")
    assert reply["seq"] == 2
    await back.close()
    await second.close()


class _Shout:
    """A test plugin on the two hooks the skeleton exercises."""

    name = "shout"

    async def on_inbound(self, event: InboundMessage, ctx: HookContext) -> object:
        import msgspec

        from runtime.events import InboundText, OutboundText
        from runtime.hooks import Drop, Replace, Reply

        if isinstance(event, InboundText) and event.text == "drop me":
            return Drop(reason="test")
        if isinstance(event, InboundText) and event.text == "ping":
            return Reply(
                messages=(
                    OutboundText(
                        event_id=str(uuid.uuid4()),
                        org_id=event.org_id,
                        conversation_id=event.conversation_id,
                        channel_id=event.channel_id,
                        channel_kind=event.channel_kind,
                        ts=event.ts,
                        text="pong",
                    ),
                )
            )
        if isinstance(event, InboundText):
            return Replace(event=msgspec.structs.replace(event, text=event.text.upper()))
        return Continue()

    async def on_outbound(self, event: object, ctx: HookContext) -> object:
        import msgspec

        from runtime.hooks import Replace

        return Replace(event=msgspec.structs.replace(event, text=event.text + " !"))  # type: ignore[attr-defined,type-var]


async def test_inbound_and_outbound_hooks_modify_drop_and_answer(settings: Settings) -> None:
    hooks = HookRegistry()
    hooks.register(_Shout())
    server = await start_server(settings, hooks=hooks)
    chat = await ChatClient.connect(server.ws_base, "echo")
    await chat.reply_containing("Say something. !")
    await chat.say("hello")
    await chat.reply_containing("echo: HELLO !")
    await chat.say("drop me")
    await chat.say("ping")
    await chat.reply_containing("pong !")
    await chat.say("bye")
    await chat.reply_containing("echo: BYE !")
    assert [m["text"] for m in chat.messages] == ["Say something. !", "echo: HELLO !", "pong !", "echo: BYE !"]
    assert [m["seq"] for m in chat.messages] == [1, 2, 3, 4]
    await chat.close()
    await server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_botrt_up_serves_and_drains_on_sigterm(database_url: str, bots_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "BOTRT_DATABASE_URL": database_url,
        "BOTRT_BOTS": str(bots_dir),
        "BOTRT_PORT": str(port),
        "BOTRT_DATA_DIR": str(tmp_path),
        "BOTRT_LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "botrt", "up", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("botrt up never became ready")
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            chat = await ChatClient.connect(f"ws://127.0.0.1:{port}", "echo")
            await chat.say("before shutdown")
            await chat.reply_containing("echo: before shutdown")
            async with http.get(f"{base}/metrics") as response:
                text = await response.text()
            assert 'botrt_messages_in_total{channel="webchat"} 1.0' in text
            assert "botrt_pipeline_seconds_bucket" in text
            assert "botrt_queue_depth" in text
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
            assert code == 0
            await chat.close()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    _, stderr = await proc.communicate()
    assert b'"event":"runtime.ready"' in stderr


async def test_a_running_conversation_finishes_on_the_flow_version_it_started_with(
    database_url: str, tmp_path: Path
) -> None:
    import msgspec

    bots = tmp_path / "bots"
    bots.mkdir()
    source = (REPO / "tests" / "data" / "bots" / "echo.toml").read_text()
    (bots / "echo.toml").write_text(source)
    settings = Settings(database_url=database_url, bots=str(bots), data_dir=str(tmp_path / "data"))
    first = await start_server(settings)
    old = await ChatClient.connect(first.ws_base, "echo")
    await old.reply_containing("Say something.")
    await old.say("one")
    await old.reply_containing("echo: one")
    await old.close()
    await first.close()

    (bots / "echo.toml").write_text(source.replace('text = "echo: {{ said }}"', 'text = "v2: {{ said }}"'))
    second = await start_server(msgspec.structs.replace(settings))
    try:
        resumed = await ChatClient.connect(second.ws_base, "echo", session=old.session, last_seq=2)
        await resumed.say("two")
        assert (await resumed.reply_containing("echo: two"))["seq"] == 3  # still version 1
        fresh = await ChatClient.connect(second.ws_base, "echo")
        await fresh.reply_containing("Say something.")
        await fresh.say("three")
        await fresh.reply_containing("v2: three")  # new conversations get version 2
        con = await asyncpg.connect(database_url)
        try:
            versions = await con.fetch("SELECT version, status FROM bot_flows ORDER BY version")
        finally:
            await con.close()
        assert [tuple(v) for v in versions] == [(1, "archived"), (2, "published")]
        await resumed.close()
        await fresh.close()
    finally:
        await second.close()
