"""chat.postMessage against the fake: exact bodies, Block Kit buttons, long texts, media, errors."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.base import HttpReply, Parsed, RateLimits, SendResult
from adapters.errors import PermanentSendError, ProviderUnavailable, RateLimited
from adapters.slack import SlackAdapter, SlackConfig
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.adapters.slack.support import request
from tests.adapters.support import outbound_media, outbound_text
from tests.fakes.slack import FakeSlack


def text(body: str, *buttons: Button) -> OutboundText:
    return outbound_text("slack", body, buttons)


def media(item: Media) -> OutboundMedia:
    return outbound_media("slack", item, event_id="e1")


def _words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count))


async def test_text_posts_one_json_message_with_the_bearer_token(fake: FakeSlack, adapter: SlackAdapter) -> None:
    result = await adapter.send("D0PNCRP9N", text("hello"))
    (call,) = fake.requests
    assert call.body == {"channel": "D0PNCRP9N", "text": "hello"}
    assert call.authorization == f"Bearer {fake.bot_token}"
    assert call.content_type == "application/json"
    assert call.ts is not None
    assert result == SendResult(provider_ids=(call.ts,))


async def test_thread_recipient_posts_into_the_thread(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send("C0LAN2Q65:1700000150.000100", text("in thread"))
    assert fake.messages == [{"channel": "C0LAN2Q65", "text": "in thread", "thread_ts": "1700000150.000100"}]


async def test_control_characters_are_escaped(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send("D1", text("if a < b && c > d"))
    assert fake.texts() == ["if a &lt; b &amp;&amp; c &gt; d"]


async def test_buttons_are_a_section_and_an_actions_block(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send(
        "D1", text("Pick one", Button(title="Yes", payload="answer:yes"), Button(title="No", payload="n"))
    )
    assert fake.messages == [
        {
            "channel": "D1",
            "text": "Pick one",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "Pick one"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Yes", "emoji": True},
                            "value": "answer:yes",
                            "action_id": "botrt_0",
                        },
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "No", "emoji": True},
                            "value": "n",
                            "action_id": "botrt_1",
                        },
                    ],
                },
            ],
        }
    ]


async def test_many_buttons_fill_actions_blocks_of_25_with_short_labels(fake: FakeSlack, adapter: SlackAdapter) -> None:
    buttons = [Button(title=f"option {i} " + "x" * (80 if i == 0 else 0), payload=f"p{i}") for i in range(30)]
    await adapter.send("D1", text("Choose", *buttons))
    (message,) = fake.messages
    section, first, second = message["blocks"]
    assert [len(first["elements"]), len(second["elements"])] == [25, 5]
    elements = first["elements"] + second["elements"]
    assert [e["value"] for e in elements] == [f"p{i}" for i in range(30)]
    assert len({e["action_id"] for e in elements}) == 30
    label = elements[0]["text"]["text"]
    assert len(label) == 75 and label.endswith("…")


async def test_buttons_without_text_name_the_choices_in_the_fallback(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send("D1", text("", Button(title="A", payload="a"), Button(title="B<", payload="b")))
    (message,) = fake.messages
    assert message["text"] == "A | B&lt;"
    assert [b["type"] for b in message["blocks"]] == ["actions"]


async def test_a_payload_slack_cannot_carry_is_refused_before_sending(fake: FakeSlack, adapter: SlackAdapter) -> None:
    with pytest.raises(PermanentSendError):
        await adapter.send("D1", text("x", Button(title="big", payload="p" * 2001)))
    assert fake.requests == []


async def test_long_text_splits_at_40000_on_word_breaks(fake: FakeSlack, adapter: SlackAdapter) -> None:
    body = _words(12_000)  # about 100,000 characters
    result = await adapter.send("D1", text(body))
    texts = fake.texts()
    assert len(texts) == 3 and len(result.provider_ids) == 3
    assert all(len(t) <= 40_000 for t in texts)
    assert " ".join(texts) == body


async def test_long_text_with_buttons_puts_sections_of_3000_on_the_last(fake: FakeSlack, adapter: SlackAdapter) -> None:
    body = _words(900)  # about 7,000 characters
    await adapter.send("D1", text(body, Button(title="More", payload="more")))
    (message,) = fake.messages
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 3
    assert all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert " ".join(s["text"]["text"] for s in sections) == body == message["text"]


async def test_very_long_text_with_buttons_sends_plain_messages_first(fake: FakeSlack, adapter: SlackAdapter) -> None:
    body = _words(6_000)  # about 50,000 characters
    await adapter.send("D1", text(body, Button(title="More", payload="more")))
    first, last = fake.messages
    assert "blocks" not in first and len(first["text"]) <= 40_000
    assert last["blocks"][-1]["type"] == "actions"
    assert first["text"] + " " + last["text"] == body


async def test_a_split_never_cuts_an_escape(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send("D1", text("&" * 12_000))  # 60,000 characters once escaped, no spaces
    texts = fake.texts()
    assert all(t.endswith("&amp;") and t.startswith("&amp;") for t in texts)
    assert "".join(texts) == "&amp;" * 12_000


async def test_image_by_url_is_an_image_block(fake: FakeSlack, adapter: SlackAdapter) -> None:
    url = "https://cdn.example.com/cat.png"
    await adapter.send("D1:1.2", media(Media(kind="image", url=url, caption="A cat")))
    assert fake.messages == [
        {
            "channel": "D1",
            "text": "A cat",
            "thread_ts": "1.2",
            "blocks": [
                {
                    "type": "image",
                    "alt_text": "A cat",
                    "image_url": url,
                    "title": {"type": "plain_text", "text": "A cat"},
                }
            ],
        }
    ]


async def test_image_by_slack_file_id(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.send("D1", media(Media(kind="image", provider_id="F0S43PZDF")))
    (message,) = fake.messages
    assert message["blocks"] == [{"type": "image", "alt_text": "image", "slack_file": {"id": "F0S43PZDF"}}]


async def test_other_media_is_a_link(fake: FakeSlack, adapter: SlackAdapter) -> None:
    url = "https://cdn.example.com/a.pdf?x=1&y=2"
    await adapter.send("D1", media(Media(kind="document", url=url, caption="Invoice <March>")))
    await adapter.send("D1", media(Media(kind="audio", url=url)))
    assert fake.texts() == [
        "<https://cdn.example.com/a.pdf?x=1&amp;y=2|Invoice &lt;March&gt;>",
        "<https://cdn.example.com/a.pdf?x=1&amp;y=2>",
    ]


async def test_media_without_a_url_is_refused(fake: FakeSlack, adapter: SlackAdapter) -> None:
    with pytest.raises(PermanentSendError):
        await adapter.send("D1", media(Media(kind="document", provider_id="F1")))
    assert fake.requests == []


async def test_http_429_is_rate_limited_with_retry_after(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("http_429", retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await adapter.send("D1", text("hi"))
    assert caught.value.retry_after == 7.0
    assert caught.value.retryable
    await adapter.send("D1", text("hi"))  # only the next call failed
    assert [r.status for r in fake.requests] == [429, 200]
    assert fake.texts() == ["hi"]


async def test_ok_false_ratelimited_is_rate_limited(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("ratelimited")
    with pytest.raises(RateLimited) as caught:
        await adapter.send("D1", text("hi"))
    assert caught.value.retry_after == 1.0


async def test_http_500_is_provider_unavailable(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("http_500")
    with pytest.raises(ProviderUnavailable) as caught:
        await adapter.send("D1", text("hi"))
    assert caught.value.retryable


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_refusals_are_permanent(fake: FakeSlack, adapter: SlackAdapter, error: str) -> None:
    fake.fail_next("error", error=error)
    with pytest.raises(PermanentSendError) as caught:
        await adapter.send("D1", text("hi"))
    assert (caught.value.status, caught.value.detail) == (200, error)
    assert not caught.value.retryable


async def test_a_transient_slack_error_is_provider_unavailable(fake: FakeSlack, adapter: SlackAdapter) -> None:
    fake.fail_next("error", error="internal_error")
    with pytest.raises(ProviderUnavailable):
        await adapter.send("D1", text("hi"))


async def test_a_wrong_token_is_permanent_invalid_auth(fake: FakeSlack, http: aiohttp.ClientSession) -> None:
    config = SlackConfig(slug="t", bot_token="xoxb-wrong", signing_secret="s", api_base=fake.api_base)
    with pytest.raises(PermanentSendError, match="invalid_auth"):
        await SlackAdapter(config, http=http).send("D1", text("hi"))


async def test_a_slow_api_is_provider_unavailable(
    fake: FakeSlack, config: SlackConfig, http: aiohttp.ClientSession
) -> None:
    fake.delay_next(5.0)
    with pytest.raises(ProviderUnavailable):
        await SlackAdapter(config, http=http, timeout=0.2).send("D1", text("hi"))


async def test_an_unreachable_api_is_provider_unavailable(http: aiohttp.ClientSession) -> None:
    async with FakeSlack() as gone:
        base = gone.api_base
    config = SlackConfig(slug="t", bot_token="x", signing_secret="s", api_base=base)
    with pytest.raises(ProviderUnavailable):
        await SlackAdapter(config, http=http).send("D1", text("hi"))


async def test_typing_is_a_no_op_and_the_rest_of_the_contract(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await adapter.typing("D1")
    assert fake.requests == []
    assert adapter.kind == "slack"
    assert adapter.limits == RateLimits(per_channel=5.0, per_recipient=1.0, burst=3)
    assert adapter.handshake(request(b"{}")) is None
    assert adapter.ack(Parsed()) == HttpReply(status=200)
