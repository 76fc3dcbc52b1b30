"""WhatsApp, Instagram, Slack and SMS through the whole system, each against its fake platform."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from yarl import URL

from runtime.config import Settings
from runtime.events import InboundMessage
from runtime.hooks import Continue, HookContext, HookRegistry
from tests.conftest import REPO, LiveServer
from tests.fakes.meta import FakeMeta, sign_meta
from tests.fakes.slack import FakeSlack, block_actions, event_callback, message_event
from tests.fakes.telegram import FakeTelegram, text_update
from tests.fakes.twilio import FakeTwilio, incoming_sms, sign_twilio, status_callback
from tests.system.conftest import serve, write_bot

PUBLIC = "https://bots.example.org"
APP_SECRET = "meta-app-secret"
PHONE_ID = "106540352242922"
IG_USER = "17841400008460056"
DATA = REPO / "tests" / "data"


async def fetch(settings: Settings, sql: str) -> list[asyncpg.Record]:
    con = await asyncpg.connect(settings.database_url)
    try:
        return list(await con.fetch(sql))
    finally:
        await con.close()


async def eventually(settings: Settings, sql: str, expected: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        rows = await fetch(settings, sql)
        value = rows[0][0] if rows else None
        if value == expected or time.monotonic() > deadline:
            assert value == expected, f"{sql} -> {value!r}, expected {expected!r}"
            return
        await asyncio.sleep(0.1)


async def post(server: LiveServer, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.base_url + path, data=body, headers=headers) as response:
            return response.status, await response.read()


def whatsapp_channel(fake: FakeMeta, template: bool) -> str:
    extra = 'template_name = "reengage"\ntemplate_language = "en_US"\n' if template else ""
    return (
        f'[[channels]]\ntype = "whatsapp"\nslug = "wa"\naccess_token = "{fake.access_token}"\n'
        f'app_secret = "{APP_SECRET}"\nverify_token = "verify-me"\nphone_number_id = "{PHONE_ID}"\n'
        f'api_base = "{fake.api_base}"\n{extra}'
    )


def sms_channel(fake: FakeTwilio, *, with_status_callback: bool = False) -> str:
    callback = f'status_callback = "{PUBLIC}/hooks/sms/sms"\n' if with_status_callback else ""
    return (
        f'[[channels]]\ntype = "sms"\nslug = "sms"\naccount_sid = "{fake.account_sid}"\n'
        f'auth_token = "{fake.auth_token}"\nfrom_number = "+15005550006"\napi_base = "{fake.api_base}"\n{callback}'
    )


def whatsapp_text(wamid: str, text: str) -> bytes:
    payload = json.loads((DATA / "whatsapp" / "text.json").read_text())
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"], message["text"]["body"] = wamid, text
    return json.dumps(payload).encode()


async def test_whatsapp_handshake_signature_and_reply(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeMeta() as fake:
        write_bot(tmp_path / "bots", "wabot", whatsapp_channel(fake, template=False))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        async with aiohttp.ClientSession() as http:
            query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me"
            async with http.get(f"{server.base_url}/hooks/whatsapp/wa?{query}") as response:
                assert (response.status, await response.text()) == (200, "1158201444")
            async with http.get(f"{server.base_url}/hooks/whatsapp/wa?{query.replace('verify-me', 'nope')}") as r:
                assert r.status == 403
        body = whatsapp_text("wamid.A1", "hello there")
        assert (await post(server, "/hooks/whatsapp/wa", body, {"X-Hub-Signature-256": "sha256=" + "0" * 64}))[0] == 403
        assert (await post(server, "/hooks/whatsapp/wa", body, {}))[0] == 401
        assert await fetch(settings, "SELECT count(*) FROM messages") == [(0,)]
        signed = {"X-Hub-Signature-256": sign_meta(APP_SECRET, body), "Content-Type": "application/json"}
        for _ in range(2):  # Meta redelivers; the wamid dedupes
            assert (await post(server, "/hooks/whatsapp/wa", body, signed))[0] == 200
        async with asyncio.timeout(10):
            sent = await fake.wait_for(1)
        assert sent[0]["to"] == "16505551234"
        assert sent[0]["text"]["body"] == "echo: hello there"
        await asyncio.sleep(0.3)
        assert len(fake.messages()) == 1


async def _reply_after_a_day(
    settings_for: Callable[[Path], Settings], servers: list[LiveServer], bots: Path, fake: FakeMeta, template: bool
) -> Settings:
    """A reply stuck while Meta is down, sent after the user's last message is 25 hours old."""
    write_bot(bots, "wabot", whatsapp_channel(fake, template=template))
    settings = settings_for(bots)
    first = await serve(servers, settings)
    fake.fail_next(500, times=100)  # Meta is down while the reply waits to be sent
    body = whatsapp_text("wamid.W1", "late answer please")
    headers = {"X-Hub-Signature-256": sign_meta(APP_SECRET, body), "Content-Type": "application/json"}
    assert (await post(first, "/hooks/whatsapp/wa", body, headers))[0] == 200
    await eventually(settings, "SELECT count(*) FROM messages WHERE direction = 'outbound'", 1)
    await first.close()
    con = await asyncpg.connect(settings.database_url)
    try:
        await con.execute("UPDATE messages SET created_at = created_at - interval '25 hours' WHERE direction = 'inbound'")
    finally:
        await con.close()
    fake.reset()  # Meta is back
    await serve(servers, settings)
    return settings


async def test_whatsapp_outside_the_24_hour_window_sends_the_template(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeMeta() as fake:
        settings = await _reply_after_a_day(platform_settings, servers, tmp_path / "bots", fake, template=True)
        async with asyncio.timeout(10):
            sent = await fake.wait_for(1)
        assert sent[0]["type"] == "template"
        assert sent[0]["template"] == {"name": "reengage", "language": {"code": "en_US"}}
        await eventually(
            settings,
            "SELECT body->>'note' FROM messages WHERE direction = 'outbound'",
            "template reengage sent instead: outside the 24-hour window",
        )


async def test_whatsapp_outside_the_24_hour_window_without_template_is_refused(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeMeta() as fake:
        settings = await _reply_after_a_day(platform_settings, servers, tmp_path / "bots", fake, template=False)
        await eventually(settings, "SELECT status FROM messages WHERE direction = 'outbound'", "failed")
        rows = await fetch(settings, "SELECT body->>'failure' FROM messages WHERE direction = 'outbound'")
        assert "24-hour" in rows[0][0] and "template_name" in rows[0][0]
        assert fake.messages() == []


async def test_instagram_message_reply_and_own_echo_ignored(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeMeta() as fake:
        channel = (
            f'[[channels]]\ntype = "instagram"\nslug = "ig"\naccess_token = "{fake.access_token}"\n'
            f'app_secret = "{APP_SECRET}"\nverify_token = "v"\nig_user_id = "{IG_USER}"\napi_base = "{fake.api_base}"\n'
        )
        write_bot(tmp_path / "bots", "igbot", channel)
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        payload = json.loads((DATA / "instagram" / "text.json").read_text())
        echo = copy.deepcopy(payload)
        echo["entry"][0]["messaging"][0]["message"].update({"is_echo": True, "mid": "echo-mid"})
        for body in (json.dumps(echo).encode(), json.dumps(payload).encode()):
            headers = {"X-Hub-Signature-256": sign_meta(APP_SECRET, body), "Content-Type": "application/json"}
            assert (await post(server, "/hooks/instagram/ig", body, headers))[0] == 200
        async with asyncio.timeout(10):
            sent = await fake.wait_for(1)
        assert sent[0]["recipient"] == {"id": "1254459154682919"}
        assert sent[0]["message"]["text"] == "echo: Hi! Do you ship to Portugal?"
        assert await fetch(settings, "SELECT count(*) FROM messages WHERE direction = 'inbound'") == [(1,)]


async def test_slack_verification_stale_signature_retries_and_buttons(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeSlack() as fake:
        channel = (
            f'[[channels]]\ntype = "slack"\nslug = "sl"\nbot_token = "{fake.bot_token}"\n'
            f'signing_secret = "{fake.signing_secret}"\napi_base = "{fake.api_base}"\n'
        )
        demo = "[knowledge]" + (REPO / "bots" / "demo.toml").read_text().split("\n[knowledge]", 1)[1]
        write_bot(tmp_path / "bots", "slbot", channel, flow=demo)
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        url = f"{server.base_url}/hooks/slack/sl"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            assert r.status == 405  # Slack only POSTs; GET is a webhook on SMS alone
        challenge = await fake.deliver(url, {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
        assert challenge.status == 200 and b"3eZbrw1aBm2rZgRNFdxV" in challenge.body
        stale = await fake.deliver(url, event_callback(message_event(text="old")), ts=int(time.time()) - 600)
        assert stale.status == 403
        forged = await fake.deliver(url, event_callback(message_event(text="x")), secret="not-the-secret")
        assert forged.status == 403
        assert await fetch(settings, "SELECT count(*) FROM messages") == [(0,)]
        hello = event_callback(message_event(text="hi"))
        assert (await fake.deliver(url, hello)).status == 200
        assert (await fake.deliver(url, hello, retry_num=1)).status == 200  # Slack's retry: same event
        await fake.wait_for(2, within=10)
        assert fake.texts() == ["Hi! I'm the botrt demo bot.", "What's your name?"]
        assert (await fake.deliver(url, event_callback(message_event(text="Grace")))).status == 200
        await fake.wait_for(4, within=10)
        menu = fake.messages[-1]
        buttons = [e for block in menu["blocks"] if block["type"] == "actions" for e in block["elements"]]
        assert [b["text"]["text"] for b in buttons] == ["Hear a fact", "About botrt", "Talk to a human", "Start over"]
        click = block_actions(value=buttons[1]["value"], text="About botrt")
        assert (await fake.deliver(url, click, interaction=True)).status == 200
        await fake.wait_for(5, within=10)
        assert "PostgreSQL" in fake.texts()[4]


async def test_sms_signed_on_the_public_url_replies_and_tracks_delivery(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTwilio() as fake:
        write_bot(tmp_path / "bots", "smsbot", sms_channel(fake, with_status_callback=True))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        local, public = f"{server.base_url}/hooks/sms/sms", f"{PUBLIC}/hooks/sms/sms"
        wrong = await fake.deliver(local, incoming_sms(body="signed for the wrong URL"))
        assert wrong.status == 403
        answer = await fake.deliver(local, incoming_sms(body="hello sms", sid="SM" + "1" * 32), signed_url=public)
        assert answer.status == 200 and answer.content_type == "text/xml" and b"<Response" in answer.body
        created = await fake.wait_for(1, within=10)
        assert created[0].get("Body") == "echo: hello sms"
        sid = created[0].sid
        await eventually(settings, "SELECT status FROM messages WHERE direction = 'outbound'", "sent")
        for status in ("delivered", "sent"):  # callbacks come in any order; never backwards
            callback = status_callback(sid, status, to="+15005550006", from_="+14155550100",
                                       account_sid=fake.account_sid)
            assert (await fake.deliver(local, callback, signed_url=public)).status == 200
        await eventually(settings, "SELECT status FROM messages WHERE direction = 'outbound'", "delivered")


async def test_sms_by_get_is_verified_over_the_url_with_its_query(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTwilio() as fake:
        write_bot(tmp_path / "bots", "smsbot", sms_channel(fake))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        local, public = f"{server.base_url}/hooks/sms/sms", f"{PUBLIC}/hooks/sms/sms"
        # A slash, a plus, an ampersand, accents: the signed URL is the query as sent ("1%2F2",
        # "ol%C3%A1"), never a decoded or re-encoded copy of it.
        text = "olá: 1/2 + você & eu"
        params = incoming_sms(body=text, sid="SM" + "2" * 32)
        answer = await fake.deliver_get(local, params, signed_url=public)
        assert answer.status == 200 and answer.content_type == "text/xml" and b"<Response" in answer.body
        created = await fake.wait_for(1, within=10)
        assert created[0].get("Body") == f"echo: {text}"
        # Forged: the query changed after signing (a different Body under the same signature).
        query = urlencode(incoming_sms(body="signed text", sid="SM" + "3" * 32))
        signature = sign_twilio(fake.auth_token, f"{public}?{query}")
        async with aiohttp.ClientSession() as http:
            forged = URL(f"{local}?{query.replace('signed+text', 'other+text')}", encoded=True)
            async with http.get(forged, headers={"X-Twilio-Signature": signature}) as r:
                assert r.status == 403
            unsigned = URL(f"{local}?{query}", encoded=True)
            async with http.get(unsigned) as r:
                assert r.status == 401
            # Signed as if its parameters were POSTed: a GET signs the URL alone.
            as_post = sign_twilio(fake.auth_token, public, incoming_sms(body="x", sid="SM" + "4" * 32))
            query4 = urlencode(incoming_sms(body="x", sid="SM" + "4" * 32))
            async with http.get(URL(f"{local}?{query4}", encoded=True), headers={"X-Twilio-Signature": as_post}) as r:
                assert r.status == 403
        rows = await fetch(settings, "SELECT text FROM messages WHERE direction = 'inbound'")
        assert [r["text"] for r in rows] == [text]


class _Stall:
    name = "stall"

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def on_inbound(self, event: InboundMessage, ctx: HookContext) -> Continue:
        await self.release.wait()
        return Continue()


async def test_a_saturated_bus_sheds_telegram_with_503_but_never_sms(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeTelegram() as telegram, FakeTwilio() as twilio:
        channels = (
            f'[[channels]]\ntype = "telegram"\nslug = "tg"\ntoken = "{telegram.token}"\n'
            f'api_base = "{telegram.api_base}"\n\n'
            f'[[channels]]\ntype = "sms"\nslug = "sms"\naccount_sid = "{twilio.account_sid}"\n'
            f'auth_token = "{twilio.auth_token}"\nfrom_number = "+15005550006"\napi_base = "{twilio.api_base}"\n'
        )
        write_bot(tmp_path / "bots", "both", channels)
        settings = Settings(**{**{f: getattr(platform_settings(tmp_path / "bots"), f)
                                  for f in Settings.__struct_fields__}, "lanes": 1, "lane_queue_size": 1})
        stall = _Stall()
        hooks = HookRegistry(timeout=60)
        hooks.register(stall)
        server = await serve(servers, settings, hooks=hooks)
        statuses = []
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                async with http.post(f"{server.base_url}/hooks/telegram/tg", json=text_update(100 + n, 70 + n, "hi")) as r:
                    statuses.append(r.status)
                    if r.status == 503:
                        assert r.headers["Retry-After"] == "1"
        assert statuses[-1] == 503 and statuses[0] == 200
        sms = await twilio.deliver(f"{server.base_url}/hooks/sms/sms", incoming_sms(body="never shed"),
                                   signed_url=f"{PUBLIC}/hooks/sms/sms")
        assert sms.status == 200
        rows = await fetch(settings, "SELECT count(*) FROM messages WHERE text = 'never shed'")
        assert rows == [(1,)]
        stall.release.set()
        await twilio.wait_for(1, within=30)  # committed, then swept onto the bus once it had room


async def test_a_whatsapp_voice_note_is_fetched_from_graph_and_transcribed(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    payload = json.loads((DATA / "whatsapp" / "voice.json").read_text())
    media_id = payload["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["id"]
    async with FakeMeta() as fake:
        # Real speech; Graph serves whatever bytes were uploaded, and whisper sniffs the format.
        fake.add_media(media_id, (REPO.parent / "shared" / "data" / "speech" / "jfk.flac").read_bytes())
        write_bot(tmp_path / "bots", "wabot", whatsapp_channel(fake, template=False))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        body = json.dumps(payload).encode()
        headers = {"X-Hub-Signature-256": sign_meta(APP_SECRET, body), "Content-Type": "application/json"}
        assert (await post(server, "/hooks/whatsapp/wa", body, headers))[0] == 200
        async with asyncio.timeout(60):
            sent = await fake.wait_for(1)
        reply = sent[0]["text"]["body"].lower()
        assert reply.startswith("echo: ") and "ask not what your country can do for you" in reply
        # The documented two steps, each with the bearer token: GET /{media-id} -> {"url"}, GET url.
        lookups = [(r.method, r.path, r.authorized, r.status) for r in fake.requests if r.method == "GET"]
        assert lookups == [
            ("GET", f"/{fake.version}/{media_id}", True, 200),
            ("GET", f"/media/{media_id}", True, 200),
        ]
        rows = await fetch(settings, "SELECT kind, text, body FROM messages WHERE direction = 'inbound'")
        assert len(rows) == 1 and rows[0]["kind"] == "media"
        assert "ask not what your country" in rows[0]["text"].lower()
        stored = json.loads(rows[0]["body"])
        assert "ask not what your country" in stored["transcript"].lower()
        assert stored["media"]["provider_id"] == media_id


async def test_slack_files_are_recorded_and_audio_clips_fetched_with_the_token_and_transcribed(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    async with FakeSlack() as fake:
        channel = (
            f'[[channels]]\ntype = "slack"\nslug = "sl"\nbot_token = "{fake.bot_token}"\n'
            f'signing_secret = "{fake.signing_secret}"\napi_base = "{fake.api_base}"\n'
        )
        write_bot(tmp_path / "bots", "slbot", channel)
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        # Hosted on the fake, so any download (with or without the bot token that url_private
        # needs) shows up in fake.downloads.
        speech = (REPO.parent / "shared" / "data" / "speech" / "jfk.flac").read_bytes()
        clip = fake.add_file("F0AUDIO001", speech, name="clip.flac", mimetype="audio/flac")
        image = fake.add_file("F0IMAGE001", b"\x89PNG fake", name="receipt.png", mimetype="image/png")
        del image["url_private_download"]  # Slack sometimes sends url_private alone
        files = [clip, image]
        event = message_event(text="see attached", subtype="file_share", files=files)
        assert (await fake.deliver(f"{server.base_url}/hooks/slack/sl", event_callback(event))).status == 200
        inbound = "FROM messages WHERE direction = 'inbound'"
        await eventually(settings, f"SELECT count(*) {inbound} AND status = 'processed'", 2)
        rows = await fetch(settings, f"SELECT external_id, body {inbound} ORDER BY external_id")
        media = [json.loads(r["body"])["media"] for r in rows]
        # url_private_download when Slack gives it, else url_private; the file id beside it.
        assert [(m["kind"], m["url"], m["provider_id"]) for m in media] == [
            ("audio", files[0]["url_private_download"], "F0AUDIO001"),
            ("image", files[1]["url_private"], "F0IMAGE001"),
        ]
        audio, image = (json.loads(r["body"]) for r in rows)
        assert "ask not what your country" in audio["transcript"].lower()
        assert "transcript" not in image
        # Only the audio was fetched, once, with the bot token; the image stays a reference.
        assert [(d.path, d.authorized) for d in fake.downloads] == [(URL(files[0]["url_private_download"]).path, True)]


async def test_a_whatsapp_voice_note_over_the_cap_stays_media_and_the_bot_answers(
    platform_settings: Callable[[Path], Settings], servers: list[LiveServer], tmp_path: Path
) -> None:
    """Graph would serve up to 100 MB; a voice note is cut off at MAX_AUDIO_BYTES and not transcribed."""
    from botrt.voice_notes import MAX_AUDIO_BYTES

    payload = json.loads((DATA / "whatsapp" / "voice.json").read_text())
    media_id = payload["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["id"]
    async with FakeMeta() as fake:
        # Real speech padded past the cap: uncapped, the decoder would transcribe the speech.
        speech = (REPO.parent / "shared" / "data" / "speech" / "jfk.flac").read_bytes()
        fake.add_media(media_id, speech + b"\0" * (MAX_AUDIO_BYTES + 1 - len(speech)))
        write_bot(tmp_path / "bots", "wabot", whatsapp_channel(fake, template=False))
        settings = platform_settings(tmp_path / "bots")
        server = await serve(servers, settings)
        body = json.dumps(payload).encode()
        headers = {"X-Hub-Signature-256": sign_meta(APP_SECRET, body), "Content-Type": "application/json"}
        assert (await post(server, "/hooks/whatsapp/wa", body, headers))[0] == 200
        async with asyncio.timeout(60):
            await fake.wait_for(1)  # the conversation goes on without a transcript
        assert [r.path for r in fake.requests if r.method == "GET"] == [f"/{fake.version}/{media_id}", f"/media/{media_id}"]
        rows = await fetch(settings, "SELECT kind, status, body FROM messages WHERE direction = 'inbound'")
        assert len(rows) == 1 and rows[0]["kind"] == "media" and rows[0]["status"] == "processed"
        assert "transcript" not in json.loads(rows[0]["body"])
