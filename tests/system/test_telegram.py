"""Telegram through the whole system: signed webhooks in, replies out to a fake Bot API."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from runtime.config import Settings
from tests.conftest import REPO, LiveServer
from tests.fakes.telegram import FakeTelegram, callback_update, text_update
from tests.system.conftest import serve, write_bot

SECRET = "hook-secret_1"
# The demo bot without its [bot] and [[channels]] tables: knowledge, agents, NLU and flow.
DEMO_FLOW = "[knowledge]" + (REPO / "bots" / "demo.toml").read_text().split("\n[knowledge]", 1)[1]


def telegram_channel(fake: FakeTelegram, **extra: str) -> str:
    lines = [
        "[[channels]]",
        'type = "telegram"',
        'slug = "tg"',
        f'token = "{fake.token}"',
        f'secret_token = "{SECRET}"',
        f'api_base = "{fake.api_base}"',
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


async def post_update(server: LiveServer, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/hooks/telegram/tg", data=json.dumps(update), headers=headers) as r:
            await r.read()
            return r.status


async def count_rows(settings: Settings, sql: str) -> int:
    con = await asyncpg.connect(settings.database_url)
    try:
        return int(await con.fetchval(sql))
    finally:
        await con.close()


async def test_a_conversation_moves_through_the_demo_flow(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgdemo", telegram_channel(fake), flow=DEMO_FLOW)
        server = await serve(servers, platform_settings(tmp_path / "bots"))
        assert await post_update(server, text_update(1, 42, "/start")) == 200
        await fake.wait_for("sendMessage", 2)
        assert fake.texts(42) == ["Hi! I'm the botrt demo bot.", "What's your name?"]
        assert await post_update(server, text_update(2, 42, "Ada")) == 200
        await fake.wait_for("sendMessage", 4)
        assert fake.texts(42)[2:] == ["Nice to meet you, Ada!", "What would you like to do, Ada?"]
        keyboard = fake.calls("sendMessage")[-1].params["reply_markup"]["inline_keyboard"]
        assert [row[0]["text"] for row in keyboard] == ["Hear a fact", "About botrt", "Talk to a human", "Start over"]
        data = keyboard[0][0]["callback_data"]
        assert await post_update(server, callback_update(3, 42, data, buttons={data: "Hear a fact"})) == 200
        await fake.wait_for("sendMessage", 5)
        assert "three hearts" in fake.texts(42)[4]


async def test_forged_missing_and_duplicate_updates(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        assert await post_update(server, text_update(10, 7, "forged"), secret="wrong") == 403
        assert await post_update(server, text_update(11, 7, "unsigned"), secret=None) == 401
        assert await count_rows(settings, "SELECT count(*) FROM messages") == 0
        assert await count_rows(settings, "SELECT count(*) FROM end_users") == 0
        for _ in range(3):  # Telegram redelivers the same update_id until it gets a 2xx
            assert await post_update(server, text_update(12, 7, "once"), secret=SECRET) == 200
        await fake.wait_for("sendMessage", 1)
        await asyncio.sleep(0.3)
        assert fake.texts(7) == ["echo: once"]
        assert await count_rows(settings, "SELECT count(*) FROM messages WHERE direction = 'inbound'") == 1


async def test_malformed_and_oversized_bodies_get_clear_4xx(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as http:
            url = f"{server.base_url}/hooks/telegram/tg"
            async with http.post(url, data=b"{not json", headers=headers) as r:
                assert r.status == 400
            async with http.post(url, data=json.dumps({"message": "no update id"}), headers=headers) as r:
                assert r.status == 400
            async with http.post(url, data=io.BytesIO(b"x" * (2 * 1024 * 1024)), headers=headers) as r:
                assert r.status == 413
            async with http.post(f"{server.base_url}/hooks/telegram/nope", data=b"{}", headers=headers) as r:
                assert r.status == 404
        # Unharmed: a good update still goes through.
        assert await post_update(server, text_update(20, 9, "still fine")) == 200
        await fake.wait_for("sendMessage", 1)
        assert fake.texts(9) == ["echo: still fine"]
        assert await count_rows(settings, "SELECT count(*) FROM messages WHERE direction = 'inbound'") == 1


async def test_platform_errors_are_retried_and_429_waits(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        fake.fail_next(500, 2, method="sendMessage")
        assert await post_update(server, text_update(30, 5, "through errors")) == 200
        await fake.wait_for("sendMessage", 3, within=15)
        assert [r.status for r in fake.calls("sendMessage")] == [500, 500, 200]
        fake.fail_next(429, 1, retry_after=1, method="sendMessage")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await post_update(server, text_update(31, 5, "after flood")) == 200
        await fake.wait_for("sendMessage", 5, within=15)
        assert loop.time() - started >= 1.0  # Retry-After honoured
        assert fake.texts(5) == ["echo: through errors", "echo: after flood"]
        for _ in range(50):
            if await count_rows(settings, "SELECT count(*) FROM messages WHERE status = 'sent'") == 2:
                break
            await asyncio.sleep(0.1)
        assert await count_rows(settings, "SELECT count(*) FROM messages WHERE status = 'sent'") == 2


async def test_a_permanent_refusal_is_a_dead_letter(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        fake.fail_next(400, 1, method="sendMessage", description="Bad Request: chat not found")
        assert await post_update(server, text_update(40, 6, "to nowhere")) == 200
        await fake.wait_for("sendMessage", 1)
        for _ in range(50):
            if await count_rows(settings, "SELECT count(*) FROM messages WHERE status = 'failed'") == 1:
                break
            await asyncio.sleep(0.1)
        con = await asyncpg.connect(settings.database_url)
        try:
            body = await con.fetchval("SELECT body FROM messages WHERE status = 'failed'")
        finally:
            await con.close()
        assert "chat not found" in json.loads(body)["failure"]


async def test_pending_sends_resume_after_a_restart(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        first = await serve(servers, settings)
        fake.fail_next(500, 100, method="sendMessage")  # the platform is down
        assert await post_update(first, text_update(50, 8, "keep me")) == 200
        await fake.wait_for("sendMessage", 1)
        await first.close()
        assert await count_rows(settings, "SELECT count(*) FROM messages WHERE direction='outbound' AND status='pending'") == 1
        fake.reset()  # the platform is back
        await serve(servers, settings)
        await fake.wait_for("sendMessage", 1, within=10)
        assert fake.texts(8) == ["echo: keep me"]


async def test_a_voice_note_is_transcribed_and_handled_as_text(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as fake:
        fake.add_file("voice-1", (Path(REPO).parent / "shared" / "data" / "speech" / "jfk.flac").read_bytes())
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        update = text_update(60, 3, "")
        del update["message"]["text"]
        update["message"]["voice"] = {"file_id": "voice-1", "file_unique_id": "u1", "duration": 11, "mime_type": "audio/ogg"}
        assert await post_update(server, update) == 200
        await fake.wait_for("sendMessage", 1, within=60)
        reply = fake.texts(3)[0].lower()
        assert reply.startswith("echo: ") and "ask not what your country can do for you" in reply
        con = await asyncpg.connect(settings.database_url)
        try:
            row = await con.fetchrow("SELECT kind, text, body FROM messages WHERE direction = 'inbound'")
        finally:
            await con.close()
        assert row["kind"] == "media"
        assert "ask not what your country" in row["text"].lower()
        assert "transcript" in json.loads(row["body"])


async def test_channel_secrets_are_sealed_at_rest_and_never_logged(
    platform_settings: Callable[[Path], Settings],
    servers: list[LiveServer],
    tmp_path: Path,
    capsys: Any,
) -> None:
    from storage.bots import credential_label
    from storage.secrets import load_secret_box

    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        assert await post_update(server, text_update(70, 4, "hello")) == 200
        await fake.wait_for("sendMessage", 1)
        con = await asyncpg.connect(settings.database_url)
        try:
            config = await con.fetchval("SELECT config FROM bot_channels WHERE slug = 'tg'")
            rows = await con.fetch(
                "SELECT channel_id::text AS channel_id, name, ciphertext FROM channel_credentials ORDER BY name"
            )
        finally:
            await con.close()
        stored = json.loads(config)
        assert stored["token"] == "[secret]" and stored["secret_token"] == "[secret]"
        assert [r["name"] for r in rows] == ["secret_token", "token"]
        for row in rows:
            assert fake.token.encode() not in row["ciphertext"] and SECRET.encode() not in row["ciphertext"]
        key_file = Path(settings.data_dir) / "secret.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        box = load_secret_box(None, Path(settings.data_dir))
        token_row = rows[1]
        assert box.open(bytes(token_row["ciphertext"]), credential_label(token_row["channel_id"], "token")) == fake.token
        await server.close()
    logged = capsys.readouterr()
    assert fake.token not in logged.out + logged.err
    assert SECRET not in logged.out + logged.err


async def test_a_dead_letter_leaves_a_verifiable_audit_row(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    from storage.audit import verify_audit_chain

    async with FakeTelegram() as fake:
        write_bot(tmp_path / "bots", "tgecho", telegram_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        fake.fail_next(403, 1, method="sendMessage", description="Forbidden: bot was blocked by the user")
        assert await post_update(server, text_update(80, 11, "blocked")) == 200
        for _ in range(50):
            if await count_rows(settings, "SELECT count(*) FROM audit_logs") == 1:
                break
            await asyncio.sleep(0.1)
        con = await asyncpg.connect(settings.database_url)
        try:
            row = await con.fetchrow("SELECT action, target_type, metadata FROM audit_logs")
            verification = await verify_audit_chain(con)
        finally:
            await con.close()
        assert row["action"] == "outbox.dead_lettered" and row["target_type"] == "message"
        assert "blocked by the user" in json.loads(row["metadata"])["reason"]
        assert verification.ok and verification.rows_checked == 1
