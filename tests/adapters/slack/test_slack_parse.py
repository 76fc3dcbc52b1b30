"""Slack requests to ParsedMessages: every inbound kind from recorded payloads, noise, malformed."""

from __future__ import annotations

import json

import aiohttp
import pytest

from adapters.base import HttpReply, Parsed, ParsedMessage
from adapters.errors import PayloadInvalid
from adapters.slack import SlackAdapter, SlackConfig, to_plain
from runtime.events import Media
from tests.adapters.slack.support import SECRET, interaction, recorded, recorded_json, request
from tests.fakes.slack import block_actions, event_callback, message_event


@pytest.fixture
def parser(http: aiohttp.ClientSession) -> SlackAdapter:
    return SlackAdapter(SlackConfig(slug="team", bot_token="xoxb-1", signing_secret=SECRET), http=http)


def _parse(adapter: SlackAdapter, name: str) -> Parsed:
    return adapter.parse(request(recorded(name)))


def _event(adapter: SlackAdapter, event: dict[str, object], **envelope: object) -> Parsed:
    body = {**event_callback(event), **envelope}
    return adapter.parse(request(json.dumps(body).encode()))


def test_direct_message_is_text_in_plain_words(parser: SlackAdapter) -> None:
    parsed = _parse(parser, "message_im")
    assert parsed == Parsed(
        messages=(
            ParsedMessage(
                external_id="D0PNCRP9N:1700000100.000200",
                sender="D0PNCRP9N",
                kind="text",
                ts=1700000100.0002,
                text="Hi & hello <3, see example.com or mail ann@example.com",
                sender_name="ann",
            ),
        )
    )


def test_thread_reply_answers_in_its_thread(parser: SlackAdapter) -> None:
    (message,) = _parse(parser, "message_channel_thread").messages
    assert message.sender == "C0LAN2Q65:1700000150.000100"
    assert message.text == "and what about #general tomorrow? cc @U2147483698"
    assert message.external_id == "C0LAN2Q65:1700000200.000300"


def test_app_mention_is_text_without_the_leading_bot_mention(parser: SlackAdapter) -> None:
    (message,) = _parse(parser, "app_mention").messages
    assert (message.kind, message.sender, message.text) == ("text", "C0LAN2Q65", "what's the @here plan?")


def test_mention_and_channel_message_of_one_post_share_a_dedupe_key(parser: SlackAdapter) -> None:
    mention = _parse(parser, "app_mention").messages
    message = _parse(parser, "message_channel_same_as_mention").messages
    assert recorded_json("app_mention")["event_id"] != recorded_json("message_channel_same_as_mention")["event_id"]
    assert [m.external_id for m in mention] == [m.external_id for m in message] == ["C0LAN2Q65:1700000300.000400"]


def test_shared_files_are_media_one_per_file(parser: SlackAdapter) -> None:
    first, second = _parse(parser, "message_file_share").messages
    assert first == ParsedMessage(
        external_id="D0PNCRP9N:1700000400.000500",
        sender="D0PNCRP9N",
        kind="media",
        ts=1700000400.0005,
        text="receipt and invoice",
        media=Media(
            kind="image",
            url="https://files.slack.com/files-pri/T061EG9R6-F0S43PZDF/download/receipt.png",
            provider_id="F0S43PZDF",
            mime_type="image/png",
            caption="receipt and invoice",
        ),
    )
    assert second.external_id == "D0PNCRP9N:1700000400.000500:1"
    assert second.text is None
    assert second.media == Media(
        kind="document",
        url="https://files.slack.com/files-pri/T061EG9R6-F0S43PZDG/download/invoice.pdf",
        provider_id="F0S43PZDG",
        mime_type="application/pdf",
    )


def test_message_changed_is_an_edit_of_the_previous_ts(parser: SlackAdapter) -> None:
    parsed = _parse(parser, "message_changed")
    assert parsed.messages == (
        ParsedMessage(
            external_id="Ev0PV52K26",
            sender="D0PNCRP9N",
            kind="edit",
            ts=1700000500.0006,
            text="Hi & goodbye",
            ref_id="1700000100.000200",
        ),
    )


def test_url_verification_answers_the_challenge(parser: SlackAdapter) -> None:
    parsed = _parse(parser, "url_verification")
    challenge = b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert parsed == Parsed(reply=HttpReply(status=200, body=challenge, content_type="text/plain"))


def test_button_click_is_a_postback_in_the_buttons_thread(parser: SlackAdapter) -> None:
    parsed = parser.parse(interaction(recorded_json("block_actions")))
    assert parsed.messages == (
        ParsedMessage(
            external_id="6148413567.1234567890.0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            sender="C0LAN2Q65:1700000150.000100",
            kind="postback",
            ts=1700001210.123456,
            payload="answer:no",
            title="No",
        ),
    )


def test_each_click_has_its_own_key_and_a_dm_click_answers_the_channel(parser: SlackAdapter) -> None:
    clicks = [parser.parse(interaction(block_actions(value="v", text="V", channel="D9"))) for _ in range(2)]
    (first,), (second,) = (c.messages for c in clicks)
    assert first.sender == second.sender == "D9"
    assert first.external_id != second.external_id


def test_select_menu_choice_is_a_postback(parser: SlackAdapter) -> None:
    payload = block_actions(value="unused", text="unused", channel="D9", trigger_id="t-1")
    payload["actions"] = [
        {
            "type": "static_select",
            "action_id": "pick",
            "block_id": "b",
            "selected_option": {"text": {"type": "plain_text", "text": "Blue"}, "value": "color:blue"},
            "action_ts": "1700000000.1",
        }
    ]
    (message,) = parser.parse(interaction(payload)).messages
    assert (message.payload, message.title, message.external_id) == ("color:blue", "Blue", "t-1")


def test_retry_headers_change_nothing(parser: SlackAdapter) -> None:
    body = recorded("message_im")
    retry = request(body, headers={"x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout"})
    assert parser.parse(retry) == parser.parse(request(body))


@pytest.mark.parametrize(
    "name",
    [
        "message_changed_unfurl",  # attachments changed, text did not
        "bot_own_message",  # the bot's echo: bot_id, no subtype
        "bot_message_subtype",  # another integration
        "channel_join",
        "channel_created",  # `channel` is an object here: never decoded as a message
        "reaction_added",
        "app_rate_limited",
    ],
)
def test_noise_is_ignored(parser: SlackAdapter, name: str) -> None:
    assert _parse(parser, name) == Parsed()


def test_view_submissions_and_slash_commands_are_ignored(parser: SlackAdapter) -> None:
    assert parser.parse(interaction(recorded_json("view_submission"))) == Parsed()
    assert parser.parse(request(b"command=%2Fweather&text=paris", form=True)) == Parsed()


def test_the_bot_user_is_recognised_from_authorizations_or_config(http: aiohttp.ClientSession) -> None:
    echo = message_event(user="U0ME", text="from the bot without bot_id")
    unconfigured = SlackAdapter(SlackConfig(slug="t", bot_token="x", signing_secret="s"), http=http)
    configured = SlackAdapter(SlackConfig(slug="t", bot_token="x", signing_secret="s", bot_user_id="U0ME"), http=http)
    assert _event(unconfigured, echo, authorizations=[{"user_id": "U0ME", "is_bot": True}]) == Parsed()
    assert _event(configured, echo, authorizations=[]) == Parsed()
    assert len(_event(unconfigured, echo, authorizations=[]).messages) == 1


@pytest.mark.parametrize(
    "event",
    [
        message_event(channel_type="app_home"),
        message_event(text="   "),
        message_event(subtype="message_deleted"),
        message_event(bot_id="B0OTHER"),
        {"type": "message", "subtype": "message_changed", "channel": "D1", "ts": "1.2", "message": {"ts": "1.1"}},
    ],
)
def test_other_messages_are_ignored(parser: SlackAdapter, event: dict[str, object]) -> None:
    assert _event(parser, event) == Parsed()


@pytest.mark.parametrize(
    ("body", "form"),
    [
        (b"not json", False),
        (b"[]", False),
        (b'{"type": "event_callback", "event_id": "Ev1"}', False),
        (b'{"type": "event_callback", "event": {"type": "message"}}', False),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "ts": "1.0"}}', False),
        (
            b'{"type": "event_callback", "event_id": "Ev1",'
            b' "event": {"type": "message", "channel": "D1", "user": "U1", "ts": "x"}}',
            False,
        ),
        (b'{"type": "event_callback", "event_id": "Ev1", "event": null}', False),
        (b'{"type": "url_verification"}', False),
        (b"\xff\xfe", False),
        (b"payload=%7Bnot-json", True),
        (b"payload=%FF", True),
        (b"something=else", True),
    ],
)
def test_malformed_bodies_are_payload_invalid(parser: SlackAdapter, body: bytes, form: bool) -> None:
    with pytest.raises(PayloadInvalid):
        parser.parse(request(body, form=form))


@pytest.mark.parametrize(
    ("mrkdwn", "plain"),
    [
        ("<@U1> hi", "@U1 hi"),
        ("<@U1|ann> hi", "@ann hi"),
        ("<#C1|general>", "#general"),
        ("<!channel> <!subteam^S1|@devs>", "@channel @devs"),
        ("<https://a.example/?x=1&amp;y=2>", "https://a.example/?x=1&y=2"),
        ("a &lt;b&gt; &amp;amp;", "a <b> &amp;"),
    ],
)
def test_to_plain(mrkdwn: str, plain: str) -> None:
    assert to_plain(mrkdwn) == plain


def test_to_plain_drops_only_a_leading_bot_mention() -> None:
    assert to_plain("  <@UBOT> hi <@UBOT>", ["UBOT"]) == "hi @UBOT"
