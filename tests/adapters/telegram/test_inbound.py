"""Config, webhook verification, parsing of recorded Updates and the ack."""

from __future__ import annotations

import json
import time

import msgspec
import pytest

from adapters.base import HttpReply, InboundKind, Location, Parsed, ParsedMessage
from adapters.errors import PayloadInvalid, SignatureInvalid, SignatureMissing
from adapters.telegram import TelegramAdapter, TelegramConfig, TelegramConfigError
from runtime.events import Media
from tests.adapters.telegram.support import DATA, SECRET, recorded, webhook

HEADER = "x-telegram-bot-api-secret-token"
ADA = "Ada Lovelace"
CHAT = "111111111"


# ---- config ------------------------------------------------------------------------------------


def test_config_accepts_documented_secret_charset() -> None:
    config = TelegramConfig(token="1:a", slug="x", secret_token="A-z_09" * 40)
    assert config.api_base == "https://api.telegram.org"


@pytest.mark.parametrize("secret", ["", "has space", "a" * 257, "dot.ted", "ünï"])
def test_config_rejects_secret_outside_charset_or_length(secret: str) -> None:
    with pytest.raises(TelegramConfigError, match="secret_token: must be 1-256 characters") as caught:
        TelegramConfig(token="1:a", slug="x", secret_token=secret)
    assert isinstance(caught.value, ValueError)
    if secret:
        assert secret not in str(caught.value)


def test_config_from_settings_names_the_bad_field() -> None:
    with pytest.raises(msgspec.ValidationError, match="secret_token"):
        msgspec.convert({"token": "1:a", "slug": "x", "secret_token": "a b", "extra": 1}, TelegramConfig)


def test_config_rejects_token_that_would_change_the_url_path() -> None:
    with pytest.raises(TelegramConfigError, match="token"):
        TelegramConfig(token="1:a/../x", slug="x")


def test_config_repr_hides_token_and_secret() -> None:
    config = TelegramConfig(token="123:SECRETTOKEN", slug="x", secret_token="hush")
    assert "SECRETTOKEN" not in repr(config) and "hush" not in repr(config)


# ---- verify ------------------------------------------------------------------------------------


def _adapter(secret: str | None = SECRET) -> TelegramAdapter:
    # parse and verify do no I/O, so no session is needed; a sentinel proves it is never touched.
    return TelegramAdapter(TelegramConfig(token="1:a", slug="demo", secret_token=secret), http=None)  # type: ignore[arg-type]


def test_verify_accepts_the_configured_secret() -> None:
    _adapter().verify(webhook(b"{}", {HEADER: SECRET}), now=time.time())


def test_verify_rejects_a_forged_secret() -> None:
    with pytest.raises(SignatureInvalid):
        _adapter().verify(webhook(b"{}", {HEADER: SECRET + "x"}), now=time.time())


def test_verify_rejects_non_ascii_secret_without_crashing() -> None:
    with pytest.raises(SignatureInvalid):
        _adapter().verify(webhook(b"{}", {HEADER: "s3cret_Tokén-42"}), now=time.time())


def test_verify_reports_a_missing_secret_header() -> None:
    with pytest.raises(SignatureMissing):
        _adapter().verify(webhook(b"{}"), now=time.time())


def test_verify_accepts_anything_when_no_secret_is_configured() -> None:
    _adapter(secret=None).verify(webhook(b"{}"), now=time.time())


def test_no_get_handshake() -> None:
    assert _adapter().handshake(webhook(b"")) is None


# ---- parse -------------------------------------------------------------------------------------


def _one(name: str) -> ParsedMessage:
    parsed = _adapter().parse(webhook(recorded(name)))
    assert parsed.reply is None
    assert len(parsed.messages) == 1
    return parsed.messages[0]


def _msg(external_id: str, kind: InboundKind, ts: float, **fields: object) -> ParsedMessage:
    base = ParsedMessage(external_id=external_id, sender=CHAT, kind=kind, ts=ts, sender_name=ADA)
    return msgspec.structs.replace(base, **fields)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("text", _msg("10000", "text", 1441645532.0, text="Hello, bot")),
        ("command", _msg("10001", "text", 1441645540.0, text="/start")),
        (
            "photo",
            _msg(
                "10002",
                "media",
                1441645550.0,
                text="Our cat",
                media=Media(kind="image", provider_id="AgACAgIAAxkBAAIBQ2large", caption="Our cat"),
            ),
        ),
        (
            "document",
            _msg(
                "10003",
                "media",
                1441645560.0,
                text="Please check",
                media=Media(
                    kind="document",
                    provider_id="BQACAgIAAxkBAAIBRGdoc",
                    mime_type="application/pdf",
                    caption="Please check",
                ),
            ),
        ),
        (
            "audio",
            _msg(
                "10004",
                "media",
                1441645570.0,
                media=Media(kind="audio", provider_id="CQACAgIAAxkBAAIBRWaudio", mime_type="audio/mpeg"),
            ),
        ),
        (
            "voice",
            _msg(
                "10005",
                "media",
                1441645580.0,
                media=Media(kind="audio", provider_id="AwACAgIAAxkBAAIBRnvoice", mime_type="audio/ogg"),
            ),
        ),
        (
            "video",
            _msg(
                "10006",
                "media",
                1441645590.0,
                text="Watch this",
                media=Media(
                    kind="video", provider_id="BAACAgIAAxkBAAIBR2video", mime_type="video/mp4", caption="Watch this"
                ),
            ),
        ),
        (
            "sticker",
            _msg(
                "10007",
                "media",
                1441645600.0,
                media=Media(
                    kind="sticker", provider_id="CAACAgIAAxkBAAIBSHsticker", mime_type="image/webp", caption="👍"
                ),
            ),
        ),
        (
            "location",
            _msg("10008", "location", 1441645610.0, location=Location(latitude=51.500729, longitude=-0.124625)),
        ),
        (
            "venue",
            _msg(
                "10009",
                "location",
                1441645620.0,
                location=Location(latitude=51.500729, longitude=-0.124625, name="Big Ben", address="London SW1A 0AA"),
            ),
        ),
        ("edited_message", _msg("10011", "edit", 1441645700.0, text="Hello, bot!", ref_id="1365")),
    ],
)
def test_parse_recorded_update(name: str, expected: ParsedMessage) -> None:
    assert _one(name) == expected


def test_parse_group_message_answers_the_group() -> None:
    message = _one("group_text")
    assert (message.sender, message.kind, message.text) == ("-1001234567890", "text", "hi all")


def test_parse_callback_query_as_postback_with_the_pressed_buttons_title() -> None:
    before = time.time()
    message = _one("callback_query")
    assert before <= message.ts <= time.time()  # a callback query carries no date of its own
    assert message == ParsedMessage(
        external_id="10010",
        sender=CHAT,
        kind="postback",
        ts=message.ts,
        payload="about",
        title="About botrt",
        ref_id="4382bfdwdsb323b2d9",
        sender_name=ADA,
    )


def test_parse_callback_query_without_message_answers_the_user() -> None:
    update = json.loads(recorded("callback_query"))
    del update["callback_query"]["message"]
    update["callback_query"]["inline_message_id"] = "AAAAAKxyz"
    (message,) = _adapter().parse(webhook(json.dumps(update).encode())).messages
    assert (message.sender, message.payload, message.title) == ("111111111", "about", None)


@pytest.mark.parametrize(
    "name", ["channel_post", "my_chat_member", "bot_message", "service_message", "edited_live_location"]
)
def test_noise_is_ignored(name: str) -> None:
    assert _adapter().parse(webhook(recorded(name))) == Parsed()


def test_every_recorded_update_parses() -> None:
    for path in sorted(DATA.glob("*.json")):
        _adapter().parse(webhook(path.read_bytes()))


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a Bot API Update"),
        (b'{"message": {"message_id": 1}}', "not a Bot API Update"),
        (b'{"update_id": "ten"}', "not a Bot API Update"),
        (b'{"update_id": 1, "message": {"message_id": 1, "date": 1}}', "chat"),
        (b'{"update_id": 1, "callback_query": {"id": "q", "data": "x"}}', "not a Bot API Update"),
    ],
)
def test_malformed_or_non_update_bodies_are_refused(body: bytes, says: str) -> None:
    with pytest.raises(PayloadInvalid, match=says):
        _adapter().parse(webhook(body))


# ---- ack ---------------------------------------------------------------------------------------


def test_ack_is_an_empty_200() -> None:
    adapter = _adapter()
    assert adapter.ack(adapter.parse(webhook(recorded("text")))) == HttpReply(status=200, body=b"")
    assert adapter.ack(Parsed()) == HttpReply(status=200, body=b"")


def test_ack_of_a_button_press_answers_the_callback_query() -> None:
    adapter = _adapter()
    reply = adapter.ack(adapter.parse(webhook(recorded("callback_query"))))
    assert reply.status == 200 and reply.content_type == "application/json"
    assert json.loads(reply.body) == {"method": "answerCallbackQuery", "callback_query_id": "4382bfdwdsb323b2d9"}
