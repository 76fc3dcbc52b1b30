"""The WhatsApp Cloud API adapter: recorded webhooks in, requests to a fake Graph API out."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from adapters.base import ChannelAdapter, Location, Parsed, ParsedMessage
from adapters.errors import PayloadInvalid, PermanentSendError, ProviderUnavailable, RateLimited, SignatureInvalid
from adapters.meta import GraphRefused, OutsideServiceWindow
from adapters.whatsapp import WhatsAppAdapter, WhatsAppConfig
from runtime.errors import ConfigError
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.adapters.meta.support import APP_SECRET, PHONE_ID, TOKEN, WA_ID, get, post, recorded, wa_config
from tests.adapters.support import option_buttons, outbound_media, outbound_text
from tests.fakes.meta import FakeMeta


def parse(adapter: WhatsAppAdapter, name: str) -> tuple[ParsedMessage, ...]:
    request = post(recorded("whatsapp", name))
    adapter.verify(request, now=0.0)
    return adapter.parse(request).messages


def one(adapter: WhatsAppAdapter, name: str) -> ParsedMessage:
    (message,) = parse(adapter, name)
    return message


def text_message(text: str, buttons: tuple[Button, ...] = ()) -> OutboundText:
    return outbound_text("whatsapp", text, buttons)


def media_message(media: Media) -> OutboundMedia:
    return outbound_media("whatsapp", media)


ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID}


# ---- the contract ----------------------------------------------------------------------------


def test_it_is_a_channel_adapter(whatsapp: WhatsAppAdapter) -> None:
    adapter: ChannelAdapter = whatsapp
    assert adapter.kind == "whatsapp"
    assert adapter.limits.per_channel == 80.0
    assert adapter.limits.per_recipient == pytest.approx(1 / 6)


def test_handshake_and_ack(whatsapp: WhatsAppAdapter) -> None:
    ok = whatsapp.handshake(
        get([("hub.mode", "subscribe"), ("hub.challenge", "42"), ("hub.verify_token", "meatyhamhock")])
    )
    assert ok is not None and (ok.status, ok.body) == (200, b"42")
    bad = whatsapp.handshake(get([("hub.mode", "subscribe"), ("hub.challenge", "42"), ("hub.verify_token", "x")]))
    assert bad is not None and bad.status == 403
    assert whatsapp.handshake(post(b"{}")) is None
    assert whatsapp.ack(Parsed()).status == 200


def test_verify_rejects_a_forged_body(whatsapp: WhatsAppAdapter) -> None:
    with pytest.raises(SignatureInvalid):
        whatsapp.verify(post(recorded("whatsapp", "text"), secret="forged"), now=0.0)


def test_secrets_stay_out_of_reprs(whatsapp: WhatsAppAdapter) -> None:
    for text in (repr(whatsapp), repr(whatsapp.config), str(whatsapp.config)):
        assert TOKEN not in text and APP_SECRET not in text


@pytest.mark.parametrize("field", ["access_token", "app_secret", "verify_token", "phone_number_id"])
async def test_an_empty_secret_is_a_config_error(field: str, http: aiohttp.ClientSession) -> None:
    with pytest.raises(ConfigError) as caught:
        WhatsAppAdapter(wa_config(**{field: ""}), http=http)
    assert caught.value.variable == f"channels.wa.{field}"


# ---- parsing ---------------------------------------------------------------------------------


def test_text(whatsapp: WhatsAppAdapter) -> None:
    assert one(whatsapp, "text") == ParsedMessage(
        external_id="wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        sender=WA_ID,
        kind="text",
        ts=1717000000.0,
        text="Hello, is the shop open today?",
        sender_name="Kerry Fisher",
    )


@pytest.mark.parametrize(
    ("name", "kind", "provider_id", "mime_type", "caption"),
    [
        ("image", "image", "1003383421387256", "image/jpeg", "My broken order"),
        ("voice", "audio", "1157442805423117", "audio/ogg; codecs=opus", None),
        ("video", "video", "2198372013848172", "video/mp4", "Unboxing"),
        ("document", "document", "811724130925128", "application/pdf", "Invoice"),
        ("sticker", "sticker", "1436512430559478", "image/webp", None),
    ],
)
def test_media(
    whatsapp: WhatsAppAdapter, name: str, kind: str, provider_id: str, mime_type: str, caption: str | None
) -> None:
    message = one(whatsapp, name)
    assert message.kind == "media"
    assert message.media == Media(kind=kind, provider_id=provider_id, mime_type=mime_type, caption=caption)
    assert message.text == caption
    assert (message.sender, message.sender_name) == (WA_ID, "Kerry Fisher")


def test_location(whatsapp: WhatsAppAdapter) -> None:
    message = one(whatsapp, "location")
    assert message.kind == "location"
    assert message.location == Location(
        latitude=37.483307,
        longitude=-122.148981,
        name="Meta Headquarters",
        address="1 Hacker Way, Menlo Park, CA 94025",
    )


@pytest.mark.parametrize(
    ("name", "payload", "title"),
    [
        ("button_reply", "menu:opening_hours", "Opening hours"),
        ("list_reply", "size:xl", "Extra large"),
        ("button", "reengage:yes", "Yes, continue"),
    ],
)
def test_postbacks(whatsapp: WhatsAppAdapter, name: str, payload: str, title: str) -> None:
    message = one(whatsapp, name)
    assert (message.kind, message.payload, message.title, message.sender) == ("postback", payload, title, WA_ID)


def test_statuses_are_deduped_each_on_their_own(whatsapp: WhatsAppAdapter) -> None:
    out = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    messages = parse(whatsapp, "statuses")
    assert [(m.kind, m.status, m.ref_id, m.external_id, m.sender) for m in messages] == [
        ("status", "sent", out, f"{out}:sent", WA_ID),
        ("status", "delivered", out, f"{out}:delivered", WA_ID),
        ("status", "read", out, f"{out}:read", WA_ID),
    ]
    assert [m.ts for m in messages] == [1717000100.0, 1717000101.0, 1717000102.0]


def test_failed_status(whatsapp: WhatsAppAdapter) -> None:
    message = one(whatsapp, "status_failed")
    assert (message.kind, message.status) == ("status", "failed")
    assert message.external_id.endswith(":failed")


@pytest.mark.parametrize("name", ["noise", "template_status_update"])
def test_noise_is_ignored(whatsapp: WhatsAppAdapter, name: str) -> None:
    assert parse(whatsapp, name) == ()


def test_a_batch_becomes_many_messages_and_other_numbers_are_skipped(whatsapp: WhatsAppAdapter) -> None:
    messages = parse(whatsapp, "batch")
    assert [(m.external_id, m.sender, m.sender_name, m.text) for m in messages] == [
        ("wamid.BATCH1", WA_ID, "Kerry Fisher", "first"),
        ("wamid.BATCH2", "5511988887777", "Ana", "second"),
        ("wamid.BATCH3", "5511988887777", "Ana", "third"),
        ("wamid.BATCHOUT:delivered", WA_ID, None, None),
    ]


def test_one_item_of_an_unexpected_shape_does_not_lose_the_batch(whatsapp: WhatsAppAdapter) -> None:
    body = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":'
        b'{"metadata":{"phone_number_id":"' + PHONE_ID.encode() + b'"},"messages":['
        b'{"from":"1","id":"wamid.BAD","timestamp":"x","type":"text","text":{"body":"?"}},'
        b'{"from":"1","id":"wamid.GOOD","timestamp":"5","type":"text","text":{"body":"ok"}},'
        b'{"from":"1","id":"wamid.NOTEXT","timestamp":"6","type":"text"}]}}]}]}'
    )
    assert [m.external_id for m in whatsapp.parse(post(body)).messages] == ["wamid.GOOD"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"object":"instagram","entry":[]}',
        b'{"object":"whatsapp_business_account"}',
        b'{"object":"whatsapp_business_account","entry":{}}',
        b'{"entry":[]}',
    ],
    ids=["empty", "not-json", "array", "wrong-object", "no-entry", "entry-not-list", "no-object"],
)
def test_malformed_bodies_are_payload_invalid(whatsapp: WhatsAppAdapter, body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        whatsapp.parse(post(body))


# ---- sending ---------------------------------------------------------------------------------


async def test_send_text(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    result = await whatsapp.send(WA_ID, text_message("Hello!"))
    assert fake.messages(PHONE_ID) == [{**ENVELOPE, "type": "text", "text": {"preview_url": False, "body": "Hello!"}}]
    assert result.provider_ids == ("wamid.FAKE00000001",)
    request = fake.requests[0]
    assert (request.method, request.path, request.authorized) == ("POST", f"/v23.0/{PHONE_ID}/messages", True)


async def test_three_buttons_are_reply_buttons(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    long_title = Button(title="A title far longer than twenty", payload="opt:long")
    await whatsapp.send(WA_ID, text_message("Pick one", (*option_buttons(2), long_title)))
    assert fake.messages(PHONE_ID) == [
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick one"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "opt:1", "title": "Option 1"}},
                        {"type": "reply", "reply": {"id": "opt:2", "title": "Option 2"}},
                        {"type": "reply", "reply": {"id": "opt:long", "title": "A title far longer …"}},
                    ]
                },
            },
        }
    ]


async def test_five_buttons_are_a_list(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    options = (*option_buttons(4), Button(title="Twenty-five characters!!!", payload="opt:5"))
    await whatsapp.send(WA_ID, text_message("Choose a size", options))
    rows: list[dict[str, Any]] = [{"id": f"opt:{i}", "title": f"Option {i}"} for i in range(1, 5)]
    rows.append({"id": "opt:5", "title": "Twenty-five characters!…", "description": "Twenty-five characters!!!"})
    assert fake.messages(PHONE_ID) == [
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Choose a size"},
                "action": {"button": "Options", "sections": [{"rows": rows}]},
            },
        }
    ]


async def test_twelve_buttons_fall_back_to_numbered_text(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    await whatsapp.send(WA_ID, text_message("Which one?", option_buttons(12)))
    numbered = "\n".join(f"{i}. Option {i}" for i in range(1, 13))
    assert fake.messages(PHONE_ID) == [
        {**ENVELOPE, "type": "text", "text": {"preview_url": False, "body": f"Which one?\n\n{numbered}"}}
    ]


async def test_a_payload_too_long_for_an_id_falls_back_to_numbered_text(
    whatsapp: WhatsAppAdapter, fake: FakeMeta
) -> None:
    await whatsapp.send(WA_ID, text_message("Go?", (Button(title="Go", payload="x" * 300),)))
    assert fake.messages(PHONE_ID)[0]["text"]["body"] == "Go?\n\n1. Go"


async def test_titles_that_collide_once_cut_become_a_list(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    # Both cut to "Delivery to my home…" as reply buttons; list rows hold 24 characters.
    options = (Button(title="Delivery to my home A", payload="a"), Button(title="Delivery to my home B", payload="b"))
    await whatsapp.send(WA_ID, text_message("Where?", options))
    assert fake.messages(PHONE_ID)[0]["interactive"]["type"] == "list"


async def test_repeated_payloads_fall_back_to_numbered_text(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    await whatsapp.send(
        WA_ID, text_message("Sure?", (Button(title="Yes", payload="y"), Button(title="Yep", payload="y")))
    )
    assert fake.messages(PHONE_ID)[0]["text"]["body"] == "Sure?\n\n1. Yes\n2. Yep"


async def test_long_text_is_split_under_4096(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    paragraphs = ["p" * 3000, "q" * 3000, "r" * 10]
    result = await whatsapp.send(WA_ID, text_message("\n\n".join(paragraphs)))
    bodies = [m["text"]["body"] for m in fake.messages(PHONE_ID)]
    assert bodies == paragraphs[:1] + ["q" * 3000 + "\n\n" + "r" * 10]
    assert len(result.provider_ids) == 2


async def test_long_text_with_buttons_puts_them_on_a_short_last_part(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    text = "a" * 3000 + "\n\n" + "b" * 2000
    await whatsapp.send(WA_ID, text_message(text, option_buttons(2)))
    sent = fake.messages(PHONE_ID)
    assert [m["type"] for m in sent] == ["text", "text", "interactive"]
    assert all(len(m["text"]["body"]) <= 4096 for m in sent[:-1])
    assert len(sent[-1]["interactive"]["body"]["text"]) <= 1024


async def test_empty_text_is_refused_without_a_request(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    with pytest.raises(PermanentSendError):
        await whatsapp.send(WA_ID, text_message("  "))
    assert fake.requests == []


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        (
            Media(kind="image", url="https://cdn.example.com/cat.jpg", caption="A cat"),
            [{"type": "image", "image": {"link": "https://cdn.example.com/cat.jpg", "caption": "A cat"}}],
        ),
        (Media(kind="image", provider_id="1003383421387256"), [{"type": "image", "image": {"id": "1003383421387256"}}]),
        (
            Media(kind="document", url="https://cdn.example.com/files/menu.pdf?v=2"),
            [
                {
                    "type": "document",
                    "document": {"link": "https://cdn.example.com/files/menu.pdf?v=2", "filename": "menu.pdf"},
                }
            ],
        ),
        (
            Media(kind="video", url="https://cdn.example.com/clip.mp4"),
            [{"type": "video", "video": {"link": "https://cdn.example.com/clip.mp4"}}],
        ),
        (
            Media(kind="audio", url="https://cdn.example.com/hi.ogg", caption="Listen"),
            [
                {"type": "audio", "audio": {"link": "https://cdn.example.com/hi.ogg"}},
                {"type": "text", "text": {"preview_url": False, "body": "Listen"}},
            ],
        ),
    ],
    ids=["image-link-caption", "image-id", "document-filename", "video", "audio-caption-follows"],
)
async def test_send_media(
    whatsapp: WhatsAppAdapter, fake: FakeMeta, media: Media, expected: list[dict[str, Any]]
) -> None:
    result = await whatsapp.send(WA_ID, media_message(media))
    assert fake.messages(PHONE_ID) == [{**ENVELOPE, **body} for body in expected]
    assert len(result.provider_ids) == len(expected)


async def test_media_without_a_source_or_of_an_unknown_kind_is_refused(whatsapp: WhatsAppAdapter) -> None:
    with pytest.raises(PermanentSendError):
        await whatsapp.send(WA_ID, media_message(Media(kind="image")))
    with pytest.raises(PermanentSendError):
        await whatsapp.send(WA_ID, media_message(Media(kind="hologram", url="https://x.example/a")))


async def test_send_template(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    await whatsapp.send_template(WA_ID)
    await whatsapp.send_template(WA_ID, "order_update", "pt_BR")
    assert fake.messages(PHONE_ID) == [
        {**ENVELOPE, "type": "template", "template": {"name": "reengage", "language": {"code": "en_US"}}},
        {**ENVELOPE, "type": "template", "template": {"name": "order_update", "language": {"code": "pt_BR"}}},
    ]


async def test_send_template_without_one_configured(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    config = WhatsAppConfig(
        slug="wa",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="v",
        phone_number_id=PHONE_ID,
        api_base=fake.api_base,
    )
    with pytest.raises(PermanentSendError) as caught:
        await WhatsAppAdapter(config, http=http).send_template(WA_ID)
    assert caught.value.status == 0
    assert fake.requests == []


async def test_typing_is_a_no_op_and_mark_read_can_type(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    await whatsapp.typing(WA_ID)
    assert fake.requests == []
    await whatsapp.mark_read("wamid.IN", typing=True)
    assert fake.requests[0].json == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
        "typing_indicator": {"type": "text"},
    }
    assert fake.messages() == []  # a read receipt is not a message


async def test_fetch_media(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.add_media("1157442805423117", b"OggS voice note")
    assert await whatsapp.fetch_media("1157442805423117") == b"OggS voice note"
    assert [(r.method, r.path, r.authorized) for r in fake.requests] == [
        ("GET", "/v23.0/1157442805423117", True),
        ("GET", "/media/1157442805423117", True),
    ]


async def test_fetch_unknown_media_is_refused(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    with pytest.raises(GraphRefused) as caught:
        await whatsapp.fetch_media("404")
    assert caught.value.code == 100


# ---- failures --------------------------------------------------------------------------------


async def test_429_is_rate_limited_with_retry_after(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.fail_next(429, code=130429, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await whatsapp.send(WA_ID, text_message("hi"))
    assert caught.value.retry_after == 7.0
    assert caught.value.retryable


async def test_pair_rate_limit_waits_one_pacing_period(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.fail_next(400, code=131056, message="(Business Account, Consumer Account) pair rate limit hit")
    with pytest.raises(RateLimited) as caught:
        await whatsapp.send(WA_ID, text_message("hi"))
    assert caught.value.retry_after == 6.0


async def test_500_is_provider_unavailable(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.fail_next(500)
    with pytest.raises(ProviderUnavailable):
        await whatsapp.send(WA_ID, text_message("hi"))
    # The next call goes through: a failure is consumed by exactly one request.
    assert (await whatsapp.send(WA_ID, text_message("hi"))).provider_ids


async def test_131047_is_outside_the_service_window(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.fail_next(400, code=131047, message="Re-engagement message")
    with pytest.raises(OutsideServiceWindow) as caught:
        await whatsapp.send(WA_ID, text_message("hi"))
    assert caught.value.code == 131047
    assert TOKEN not in str(caught.value)


async def test_other_400s_are_permanent(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    fake.fail_next(400, code=131026, message="Message undeliverable")
    with pytest.raises(PermanentSendError) as caught:
        await whatsapp.send(WA_ID, text_message("hi"))
    assert not isinstance(caught.value, OutsideServiceWindow)
    assert not caught.value.retryable


async def test_a_failure_part_way_raises_after_the_sent_parts(whatsapp: WhatsAppAdapter, fake: FakeMeta) -> None:
    # The first part goes out, the second fails: the outbox gets the error and retries the message.
    fake.fail_next(503, after=1)
    with pytest.raises(ProviderUnavailable):
        await whatsapp.send(WA_ID, text_message("a" * 4090 + "\n\n" + "b" * 10))
    assert [m["text"]["body"] for m in fake.messages(PHONE_ID)] == ["a" * 4090]
    assert [r.status for r in fake.requests] == [200, 503]
