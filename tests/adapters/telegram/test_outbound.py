"""Sending through the adapter against the fake Bot API: exactly what Telegram would receive."""

from __future__ import annotations

import asyncio
import socket
import traceback

import aiohttp
import pytest

from adapters.base import SendResult
from adapters.errors import AdapterError, PermanentSendError, ProviderUnavailable, RateLimited
from adapters.telegram import ALLOWED_UPDATES, TelegramAdapter, TelegramConfig, TelegramConfigError, callback_data
from adapters.telegram.render import split_text, utf16_len
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.adapters.support import outbound_media, outbound_text
from tests.fakes.telegram import FakeTelegram

CHAT = "42"


def text(body: str, *buttons: Button) -> OutboundText:
    return outbound_text("telegram", body, buttons)


def media(m: Media) -> OutboundMedia:
    return outbound_media("telegram", m)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _assert_token_hidden(exc: BaseException, token: str) -> None:
    """The token is in every Bot API URL: neither the error nor its chain may show it."""
    assert exc.__cause__ is None and exc.__context__ is None
    assert token not in "".join(traceback.format_exception(exc))


# ---- text --------------------------------------------------------------------------------------


async def test_send_text(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    result = await adapter.send(CHAT, text("Hello"))
    assert result == SendResult(provider_ids=("1",))
    (call,) = fake.requests
    assert (call.method, call.content_type, call.status) == ("sendMessage", "application/json", 200)
    assert call.params == {"chat_id": 42, "text": "Hello"}


async def test_send_to_a_group_or_a_username(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.send("-1001234567890", text("hi group"))
    await adapter.send("@engine_news", text("hi channel"))
    assert [r.params["chat_id"] for r in fake.requests] == [-1001234567890, "@engine_news"]


async def test_buttons_become_an_inline_keyboard_one_per_row(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.send(
        CHAT, text("Pick one", Button(title="Hear a fact", payload="fact"), Button(title="Stop", payload="stop"))
    )
    assert fake.requests[0].params == {
        "chat_id": 42,
        "text": "Pick one",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Hear a fact", "callback_data": "fact"}],
                [{"text": "Stop", "callback_data": "stop"}],
            ]
        },
    }


async def test_oversized_button_payload_is_mapped_to_64_bytes(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    long_payload = "choose:" + "é" * 60  # 127 bytes in UTF-8
    await adapter.send(CHAT, text("Pick", Button(title="Long", payload=long_payload)))
    (call,) = fake.requests
    assert call.status == 200  # the fake refuses callback_data outside 1-64 bytes, as Telegram does
    data = call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert data == callback_data(long_payload)
    assert len(data.encode()) <= 64 and data.startswith("choose:é") and "#" in data


def test_callback_data_is_stable_and_leaves_short_payloads_alone() -> None:
    assert callback_data("fact") == "fact"
    assert callback_data("x" * 64) == "x" * 64
    assert callback_data("x" * 65) == callback_data("x" * 65) != callback_data("x" * 66)
    assert 1 <= len(callback_data("").encode()) <= 64


async def test_long_text_is_split_at_paragraphs_with_buttons_on_the_last_part(
    adapter: TelegramAdapter, fake: FakeTelegram
) -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 300 for i in range(8)]  # ~1,515 chars each
    body = "\n\n".join(paragraphs)
    result = await adapter.send(CHAT, text(body, Button(title="More", payload="more")))
    calls = fake.calls("sendMessage")
    assert result.provider_ids == tuple(str(i) for i in range(1, len(calls) + 1))
    assert len(calls) == 4
    sent = [c.params["text"] for c in calls]
    assert all(utf16_len(part) <= 4096 for part in sent)
    assert "\n\n".join(sent) == body  # nothing lost, cut exactly at paragraph breaks
    assert ["reply_markup" in c.params for c in calls] == [False, False, False, True]


def test_split_falls_back_to_lines_words_and_hard_cuts() -> None:
    lines = "\n".join("line " * 100 for _ in range(30))
    assert all(len(p) <= 4096 for p in split_text(lines)) and "\n".join(split_text(lines)) == lines
    words = "word " * 2000
    parts = split_text(words)
    assert " ".join(parts) == words and all(len(p) <= 4096 for p in parts)
    solid = "x" * 10000
    assert split_text(solid) == ["x" * 4096, "x" * 4096, "x" * 1808]


def test_split_counts_utf16_units_and_never_breaks_a_surrogate_pair() -> None:
    emoji = "😀" * 3000  # 6,000 UTF-16 units
    parts = split_text(emoji)
    assert "".join(parts) == emoji and [utf16_len(p) for p in parts] == [4096, 1904]


# ---- media -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m", "method", "params"),
    [
        (
            Media(kind="image", url="https://cdn.example.com/cat.jpg", caption="Cat"),
            "sendPhoto",
            {"photo": "https://cdn.example.com/cat.jpg", "caption": "Cat"},
        ),
        (Media(kind="document", provider_id="BQACdoc", url="https://x/y.pdf"), "sendDocument", {"document": "BQACdoc"}),
        (
            Media(kind="audio", url="https://x/song.mp3", mime_type="audio/mpeg"),
            "sendAudio",
            {"audio": "https://x/song.mp3"},
        ),
        (
            Media(kind="audio", url="https://x/note.ogg", mime_type="audio/ogg"),
            "sendVoice",
            {"voice": "https://x/note.ogg"},
        ),
        (Media(kind="voice", provider_id="AwACvoice"), "sendVoice", {"voice": "AwACvoice"}),
        (
            Media(kind="video", url="https://x/clip.mp4", caption="Clip"),
            "sendVideo",
            {"video": "https://x/clip.mp4", "caption": "Clip"},
        ),
        (Media(kind="sticker", provider_id="CAACsticker"), "sendSticker", {"sticker": "CAACsticker"}),
        (Media(kind="spreadsheet", url="https://x/t.csv"), "sendDocument", {"document": "https://x/t.csv"}),
    ],
)
async def test_send_media(
    adapter: TelegramAdapter, fake: FakeTelegram, m: Media, method: str, params: dict[str, str]
) -> None:
    result = await adapter.send(CHAT, media(m))
    (call,) = fake.requests
    assert (call.method, call.params, call.status) == (method, {"chat_id": 42, **params}, 200)
    assert result == SendResult(provider_ids=("1",))


async def test_caption_over_1024_follows_the_media_as_text(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    caption = "c" * 1500
    result = await adapter.send(CHAT, media(Media(kind="image", provider_id="AgACphoto", caption=caption)))
    assert [(r.method, r.params) for r in fake.requests] == [
        ("sendPhoto", {"chat_id": 42, "photo": "AgACphoto"}),
        ("sendMessage", {"chat_id": 42, "text": caption}),
    ]
    assert result.provider_ids == ("1", "2")


async def test_media_without_a_source_is_refused_without_a_call(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    with pytest.raises(PermanentSendError, match="neither provider_id nor url"):
        await adapter.send(CHAT, media(Media(kind="image")))
    assert fake.requests == []


# ---- failures ----------------------------------------------------------------------------------


async def test_429_is_rate_limited_with_telegrams_retry_after(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    fake.fail_next(429, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(CHAT, text("Hello"))
    assert caught.value.retry_after == 7.0 and caught.value.retryable
    assert "Too Many Requests: retry after 7" in str(caught.value)
    assert [r.status for r in fake.requests] == [429]
    # Only the next call failed: a retry goes through.
    assert (await adapter.send(CHAT, text("Hello"))).provider_ids == ("1",)


async def test_500_is_provider_unavailable(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    fake.fail_next(500)
    with pytest.raises(ProviderUnavailable, match="Internal Server Error") as caught:
        await adapter.send(CHAT, text("Hello"))
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("status", "description"), [(400, "Bad Request: chat not found"), (403, "Forbidden: bot was blocked by the user")]
)
async def test_other_4xx_is_permanent(
    adapter: TelegramAdapter, fake: FakeTelegram, status: int, description: str
) -> None:
    fake.fail_next(status, description=description)
    with pytest.raises(PermanentSendError) as caught:
        await adapter.send(CHAT, text("Hello"))
    assert (caught.value.status, caught.value.retryable) == (status, False)
    assert caught.value.detail == f"telegram sendMessage: {description}"


async def test_refusal_by_telegrams_own_checks_is_permanent(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    with pytest.raises(PermanentSendError, match="message text is empty"):
        await adapter.send(CHAT, text(""))


async def test_a_wrong_token_is_permanent_and_not_revealed(fake: FakeTelegram) -> None:
    config = TelegramConfig(token="999:WrongToken", slug="demo", api_base=fake.api_base)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(PermanentSendError) as caught:
            await TelegramAdapter(config, http=http).send(CHAT, text("Hello"))
    assert caught.value.status == 401
    _assert_token_hidden(caught.value, "WrongToken")


async def test_timeout_is_provider_unavailable(fake: FakeTelegram) -> None:
    config = TelegramConfig(token=fake.token, slug="demo", api_base=fake.api_base)
    fake.delay_next(5.0)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ProviderUnavailable, match="no answer within 0.2 s") as caught:
            await TelegramAdapter(config, http=http, timeout=0.2).send(CHAT, text("Hello"))
    _assert_token_hidden(caught.value, fake.token)


async def test_connection_refused_is_provider_unavailable_without_the_token() -> None:
    token = "123:ConnRefusedToken"
    config = TelegramConfig(token=token, slug="demo", api_base=f"http://127.0.0.1:{_free_port()}")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ProviderUnavailable) as caught:
            await TelegramAdapter(config, http=http).send(CHAT, text("Hello"))
    _assert_token_hidden(caught.value, token)


# ---- typing ------------------------------------------------------------------------------------


async def test_typing_sends_the_chat_action(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.typing(CHAT)
    (call,) = fake.requests
    assert (call.method, call.params) == ("sendChatAction", {"chat_id": 42, "action": "typing"})


@pytest.mark.parametrize("status", [400, 429, 500])
async def test_typing_failures_are_swallowed(adapter: TelegramAdapter, fake: FakeTelegram, status: int) -> None:
    fake.fail_next(status, method="sendChatAction")
    await adapter.typing(CHAT)
    assert [r.status for r in fake.requests] == [status]


async def test_typing_does_not_swallow_cancellation(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    fake.delay_next(5.0)
    task = asyncio.create_task(adapter.typing(CHAT))
    await fake.wait_for("sendChatAction")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# ---- webhook and files -------------------------------------------------------------------------


async def test_set_webhook(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.set_webhook("https://bots.example.com/webhooks/telegram/demo", "s3cret", ALLOWED_UPDATES)
    (call,) = fake.requests
    assert (call.method, call.params) == (
        "setWebhook",
        {
            "url": "https://bots.example.com/webhooks/telegram/demo",
            "secret_token": "s3cret",
            "allowed_updates": ["message", "edited_message", "callback_query"],
        },
    )
    assert fake.webhook is not None and fake.webhook.secret_token == "s3cret"


async def test_set_webhook_without_secret_or_update_list(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    await adapter.set_webhook("https://bots.example.com/hook", None)
    assert fake.requests[0].params == {"url": "https://bots.example.com/hook"}


async def test_set_webhook_refuses_a_bad_secret_before_calling(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    with pytest.raises(TelegramConfigError):
        await adapter.set_webhook("https://bots.example.com/hook", "not allowed!")
    assert fake.requests == []


async def test_get_file_url_resolves_a_downloadable_url(adapter: TelegramAdapter, fake: FakeTelegram) -> None:
    path = fake.add_file("AwACvoice", b"OggS-voice-bytes", file_path="voice/file_7.oga")
    url = await adapter.get_file_url("AwACvoice")
    assert url == f"{fake.api_base}/file/bot{fake.token}/{path}"
    assert fake.requests[0].params == {"file_id": "AwACvoice"}
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert await response.read() == b"OggS-voice-bytes"
    assert fake.downloads == ["voice/file_7.oga"]


async def test_get_file_url_of_an_unknown_file_is_permanent(adapter: TelegramAdapter) -> None:
    with pytest.raises(PermanentSendError, match="invalid file_id") as caught:
        await adapter.get_file_url("nope")
    assert isinstance(caught.value, AdapterError) and caught.value.status == 400
