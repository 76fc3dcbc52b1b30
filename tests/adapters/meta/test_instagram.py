"""The Instagram Direct adapter: recorded webhooks in, requests to a fake Graph API out."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec
import pytest

from adapters.base import ChannelAdapter, Parsed, ParsedMessage
from adapters.errors import PayloadInvalid, PermanentSendError, ProviderUnavailable, RateLimited, SignatureMissing
from adapters.instagram import InstagramAdapter
from adapters.meta import OutsideServiceWindow
from runtime.errors import ConfigError
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.adapters.meta.support import APP_SECRET, IG_ID, IGSID, TOKEN, get, ig_config, post, recorded
from tests.adapters.support import option_buttons, outbound_media, outbound_text
from tests.fakes.meta import FakeMeta

MID = (
    "aWdfZAG1faXRlbTpJR01lc3NhZA2VJRDoxNzg0MTQwMDAwODQ2MDA1NjozNDA1NjQ4NzM4NjM2ODk2NjA6MzE2MjYx"
    "NjQ4NDgyNTEzMjI4MDozMjE0NjQ0MzE0NzE0MjE4NzY0"
)
CDN = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="


def parse(adapter: InstagramAdapter, name: str) -> tuple[ParsedMessage, ...]:
    request = post(recorded("instagram", name), path="/hooks/instagram/ig")
    adapter.verify(request, now=0.0)
    return adapter.parse(request).messages


def one(adapter: InstagramAdapter, name: str) -> ParsedMessage:
    (message,) = parse(adapter, name)
    return message


def text_message(text: str, buttons: tuple[Button, ...] = ()) -> OutboundText:
    return outbound_text("instagram", text, buttons)


def media_message(media: Media) -> OutboundMedia:
    return outbound_media("instagram", media)


def quick_replies(options: tuple[Button, ...]) -> list[dict[str, Any]]:
    return [{"content_type": "text", "title": b.title, "payload": b.payload} for b in options]


# ---- the contract ----------------------------------------------------------------------------


def test_it_is_a_channel_adapter(instagram: InstagramAdapter) -> None:
    adapter: ChannelAdapter = instagram
    assert adapter.kind == "instagram"
    assert (adapter.limits.per_channel, adapter.limits.per_recipient) == (100.0, 1.0)


def test_handshake_verify_and_ack(instagram: InstagramAdapter) -> None:
    reply = instagram.handshake(
        get([("hub.mode", "subscribe"), ("hub.challenge", "99"), ("hub.verify_token", "meatyhamhock")])
    )
    assert reply is not None and (reply.status, reply.body) == (200, b"99")
    with pytest.raises(SignatureMissing):
        instagram.verify(post(recorded("instagram", "text"), secret=None), now=0.0)
    assert instagram.ack(Parsed()).status == 200


def test_secrets_stay_out_of_reprs(instagram: InstagramAdapter) -> None:
    for text in (repr(instagram), repr(instagram.config)):
        assert TOKEN not in text and APP_SECRET not in text


async def test_an_empty_token_is_a_config_error(http: aiohttp.ClientSession) -> None:
    with pytest.raises(ConfigError):
        InstagramAdapter(msgspec.structs.replace(ig_config(), access_token=""), http=http)


# ---- parsing ---------------------------------------------------------------------------------


def test_text(instagram: InstagramAdapter) -> None:
    assert one(instagram, "text") == ParsedMessage(
        external_id=MID, sender=IGSID, kind="text", ts=1717000000.123, text="Hi! Do you ship to Portugal?"
    )


def test_attachments_each_get_their_own_dedupe_key(instagram: InstagramAdapter) -> None:
    messages = parse(instagram, "image")
    assert [(m.external_id, m.kind, m.media) for m in messages] == [
        (MID + "IMG", "media", Media(kind="image", url=CDN + "17952329339724521&signature=AbzFake1")),
        (MID + "IMG:1", "media", Media(kind="image", url=CDN + "17952329339724522&signature=AbzFake2")),
    ]


def test_audio(instagram: InstagramAdapter) -> None:
    message = one(instagram, "audio")
    assert message.media == Media(kind="audio", url=CDN + "17952329339724599&signature=AbzFake3")


def test_quick_reply_is_a_postback(instagram: InstagramAdapter) -> None:
    message = one(instagram, "quick_reply")
    assert (message.kind, message.payload, message.title, message.external_id) == (
        "postback",
        "menu:track",
        "Track my order",
        MID + "QR",
    )


def test_postback(instagram: InstagramAdapter) -> None:
    message = one(instagram, "postback")
    assert (message.kind, message.payload, message.title, message.external_id, message.sender) == (
        "postback",
        "icebreaker:start",
        "Get started",
        MID + "PB",
        IGSID,
    )


def test_read_is_a_status(instagram: InstagramAdapter) -> None:
    out = "aWdfZAG1faXRlbTpJR01lc3NhZA2VJRDoxNzg0MTQwMDAwODQ2MDA1NjpPVVRCT1VORE1FU1NBR0UA"
    message = one(instagram, "read")
    assert (message.kind, message.status, message.ref_id, message.external_id) == ("status", "read", out, f"{out}:read")


def test_edit(instagram: InstagramAdapter) -> None:
    message = one(instagram, "edit")
    assert (message.kind, message.text, message.ref_id, message.external_id) == (
        "edit",
        "Hi! Do you ship to Spain?",
        MID,
        f"{MID}:edit:1",
    )


def test_echoes_reactions_unsends_and_shares_are_noise(instagram: InstagramAdapter) -> None:
    assert parse(instagram, "noise") == ()


def test_a_batch_becomes_many_messages(instagram: InstagramAdapter) -> None:
    messages = parse(instagram, "batch")
    assert [(m.external_id, m.sender, m.kind) for m in messages] == [
        ("m_BATCH1", IGSID, "text"),
        ("m_BATCH2", IGSID, "text"),
        ("m_BATCH3", "9876543210123456", "text"),
        ("m_OUT1:read", IGSID, "status"),
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'"instagram"', b'{"object":"page","entry":[]}', b'{"object":"instagram"}', b'{"object":1,"entry":[]}'],
    ids=["empty", "truncated", "string", "wrong-object", "no-entry", "object-not-string"],
)
def test_malformed_bodies_are_payload_invalid(instagram: InstagramAdapter, body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        instagram.parse(post(body))


# ---- sending ---------------------------------------------------------------------------------


async def test_send_text(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    result = await instagram.send(IGSID, text_message("Yes, we ship to Portugal."))
    assert fake.messages(IG_ID) == [{"recipient": {"id": IGSID}, "message": {"text": "Yes, we ship to Portugal."}}]
    assert result.provider_ids == ("m_FAKE00000001",)
    assert fake.requests[0].path == f"/v23.0/{IG_ID}/messages"


@pytest.mark.parametrize("n", [3, 5, 13])
async def test_buttons_are_quick_replies(instagram: InstagramAdapter, fake: FakeMeta, n: int) -> None:
    await instagram.send(IGSID, text_message("Pick one", option_buttons(n)))
    assert fake.messages(IG_ID) == [
        {"recipient": {"id": IGSID}, "message": {"text": "Pick one", "quick_replies": quick_replies(option_buttons(n))}}
    ]


async def test_quick_reply_titles_are_cut_to_20(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    await instagram.send(IGSID, text_message("Pick", (Button(title="Much too long for a quick reply", payload="p"),)))
    assert fake.messages(IG_ID)[0]["message"]["quick_replies"][0]["title"] == "Much too long for a…"


async def test_more_than_13_buttons_fall_back_to_numbered_text(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    await instagram.send(IGSID, text_message("Which?", option_buttons(14)))
    numbered = "\n".join(f"{i}. Option {i}" for i in range(1, 15))
    assert fake.messages(IG_ID) == [{"recipient": {"id": IGSID}, "message": {"text": f"Which?\n\n{numbered}"}}]


async def test_long_text_is_split_by_bytes_with_quick_replies_last(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    text = " ".join(["olá"] * 600)  # 2,999 bytes in 2,399 characters
    result = await instagram.send(IGSID, text_message(text, option_buttons(2)))
    sent = [m["message"] for m in fake.messages(IG_ID)]
    assert len(sent) == 3 and len(result.provider_ids) == 3
    assert all(len(m["text"].encode()) <= 1000 for m in sent)
    assert " ".join(m["text"] for m in sent) == text
    assert ["quick_replies" in m for m in sent] == [False, False, True]


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (
            Media(kind="image", url="https://cdn.example.com/cat.jpg"),
            [{"attachment": {"type": "image", "payload": {"url": "https://cdn.example.com/cat.jpg"}}}],
        ),
        (
            Media(kind="document", url="https://cdn.example.com/menu.pdf", caption="Our menu"),
            [
                {"attachment": {"type": "file", "payload": {"url": "https://cdn.example.com/menu.pdf"}}},
                {"text": "Our menu"},
            ],
        ),
        (
            Media(kind="video", provider_id="1234567890"),
            [{"attachment": {"type": "video", "payload": {"attachment_id": "1234567890"}}}],
        ),
    ],
    ids=["image", "document-with-caption", "video-by-attachment-id"],
)
async def test_send_media(
    instagram: InstagramAdapter, fake: FakeMeta, media: Media, expected: list[dict[str, Any]]
) -> None:
    await instagram.send(IGSID, media_message(media))
    assert fake.messages(IG_ID) == [{"recipient": {"id": IGSID}, "message": m} for m in expected]


async def test_typing(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    await instagram.typing(IGSID)
    assert fake.requests[0].json == {"recipient": {"id": IGSID}, "sender_action": "typing_on"}
    assert fake.requests[0].status == 200
    assert fake.messages() == []  # a sender action is not a message


async def test_empty_text_is_refused(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    with pytest.raises(PermanentSendError):
        await instagram.send(IGSID, text_message(""))
    assert fake.requests == []


# ---- failures --------------------------------------------------------------------------------


async def test_429_is_rate_limited(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    fake.fail_next(429, code=613, retry_after=12)
    with pytest.raises(RateLimited) as caught:
        await instagram.send(IGSID, text_message("hi"))
    assert caught.value.retry_after == 12.0


async def test_500_is_provider_unavailable(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    fake.fail_next(500, code=2, is_transient=True)
    with pytest.raises(ProviderUnavailable):
        await instagram.send(IGSID, text_message("hi"))


async def test_outside_the_window_is_outside_service_window(instagram: InstagramAdapter, fake: FakeMeta) -> None:
    fake.fail_next(400, code=10, subcode=2018278, message="(#10) This message is sent outside of allowed window.")
    with pytest.raises(OutsideServiceWindow) as caught:
        await instagram.send(IGSID, text_message("hi"))
    assert (caught.value.code, caught.value.subcode) == (10, 2018278)
