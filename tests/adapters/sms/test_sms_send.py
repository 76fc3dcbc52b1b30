"""Messages.json against the fake: exact forms, numbered buttons, long texts, media, errors."""

from __future__ import annotations

import aiohttp
import pytest

from adapters.base import RateLimits, SendResult
from adapters.errors import PermanentSendError, ProviderUnavailable, RateLimited
from adapters.sms import SmsAdapter, SmsConfig, numbered_options, resolve_numbered_reply
from runtime.events import Button, Media, OutboundMedia, OutboundText
from tests.adapters.support import outbound_media, outbound_text, serve
from tests.fakes.twilio import FROM_NUMBER, USER_NUMBER, FakeTwilio, incoming_sms

YES_NO = (Button(title="Yes", payload="answer:yes"), Button(title="No", payload="answer:no"))


def text(body: str, *buttons: Button) -> OutboundText:
    return outbound_text("sms", body, buttons)


def media(item: Media) -> OutboundMedia:
    return outbound_media("sms", item, event_id="e1")


def _words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count))


async def test_text_is_one_form_post_with_basic_auth(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    result = await adapter.send(USER_NUMBER, text("hello"))
    (call,) = fake.requests
    assert call.path == f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    assert call.form == [("To", USER_NUMBER), ("From", FROM_NUMBER), ("Body", "hello")]
    assert call.credentials == (fake.account_sid, fake.auth_token)
    assert call.sid is not None and call.sid.startswith("SM")
    assert result == SendResult(provider_ids=(call.sid,))


async def test_status_callback_and_messaging_service(
    fake: FakeTwilio, config: SmsConfig, http: aiohttp.ClientSession
) -> None:
    callback = "https://bots.example.com/hooks/sms/support"
    service = "MG" + "0" * 31 + "1"
    configured = SmsConfig(
        slug="s",
        account_sid=config.account_sid,
        auth_token=config.auth_token,
        from_number=service,
        api_base=config.api_base,
        status_callback=callback,
    )
    await SmsAdapter(configured, http=http).send(USER_NUMBER, text("hi"))
    assert fake.messages[0].form == [
        ("To", USER_NUMBER),
        ("MessagingServiceSid", service),
        ("Body", "hi"),
        ("StatusCallback", callback),
    ]


async def test_buttons_become_numbered_options(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.send(USER_NUMBER, text("Pick one", *YES_NO))
    assert fake.bodies() == ["Pick one\n\n1. Yes\n2. No"]


async def test_buttons_alone_are_just_the_options(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.send(USER_NUMBER, text("", *YES_NO))
    assert fake.bodies() == ["1. Yes\n2. No"]


async def test_long_text_splits_at_1600_on_word_breaks(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    body = _words(600)  # about 4,600 characters
    result = await adapter.send(USER_NUMBER, text(body))
    bodies = fake.bodies()
    assert len(bodies) == len(result.provider_ids) == 3
    assert all(len(b) <= 1600 for b in bodies)
    assert " ".join(bodies) == body


async def test_the_limit_counts_utf16_units(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.send(USER_NUMBER, text("👋" * 1000))  # 2000 UTF-16 units, no break points
    bodies = fake.bodies()
    assert [len(b) for b in bodies] == [800, 200]


async def test_options_stay_whole_on_the_last_message(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.send(USER_NUMBER, text(_words(300), *YES_NO))  # about 2,200 characters
    *_, last = fake.bodies()
    assert last.endswith("\n\n1. Yes\n2. No")
    await adapter.send(USER_NUMBER, text("x" * 1599, *YES_NO))  # no room left for the options
    assert fake.bodies()[-2:] == ["x" * 1599, "1. Yes\n2. No"]


async def test_media_is_media_url_with_the_caption(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.send(USER_NUMBER, media(Media(kind="image", url="https://cdn.example.com/cat.jpg", caption="A cat")))
    await adapter.send(USER_NUMBER, media(Media(kind="document", url="https://cdn.example.com/a.pdf")))
    first, second = fake.messages
    assert first.form == [
        ("To", USER_NUMBER),
        ("From", FROM_NUMBER),
        ("Body", "A cat"),
        ("MediaUrl", "https://cdn.example.com/cat.jpg"),
    ]
    assert second.form == [("To", USER_NUMBER), ("From", FROM_NUMBER), ("MediaUrl", "https://cdn.example.com/a.pdf")]


async def test_media_without_a_url_is_refused(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    with pytest.raises(PermanentSendError):
        await adapter.send(USER_NUMBER, media(Media(kind="image", provider_id="F1")))
    assert fake.requests == []


@pytest.mark.parametrize(("retry_after", "expected"), [(7, 7.0), (None, 1.0)])
async def test_429_is_rate_limited(
    fake: FakeTwilio, adapter: SmsAdapter, retry_after: int | None, expected: float
) -> None:
    fake.fail_next("http_429", retry_after=retry_after)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(USER_NUMBER, text("hi"))
    assert caught.value.retry_after == expected
    await adapter.send(USER_NUMBER, text("hi"))  # only the next call failed
    assert [r.status for r in fake.requests] == [429, 201]


async def test_500_is_provider_unavailable(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    fake.fail_next("http_500")
    with pytest.raises(ProviderUnavailable, match="20500"):
        await adapter.send(USER_NUMBER, text("hi"))


async def test_400_is_permanent_with_twilios_code(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    fake.fail_next("http_400", code=21610, message="Attempt to send to unsubscribed recipient")
    with pytest.raises(PermanentSendError) as caught:
        await adapter.send(USER_NUMBER, text("hi"))
    assert caught.value.status == 400
    assert caught.value.detail == (
        "21610 Attempt to send to unsubscribed recipient https://www.twilio.com/docs/errors/21610"
    )
    assert not caught.value.retryable


async def test_wrong_credentials_are_permanent(
    fake: FakeTwilio, config: SmsConfig, http: aiohttp.ClientSession
) -> None:
    wrong = SmsConfig(
        slug="s", account_sid=config.account_sid, auth_token="nope", from_number=FROM_NUMBER, api_base=fake.api_base
    )
    with pytest.raises(PermanentSendError, match="20003"):
        await SmsAdapter(wrong, http=http).send(USER_NUMBER, text("hi"))


async def test_a_slow_api_is_provider_unavailable(
    fake: FakeTwilio, config: SmsConfig, http: aiohttp.ClientSession
) -> None:
    fake.delay_next(5.0)
    with pytest.raises(ProviderUnavailable):
        await SmsAdapter(config, http=http, timeout=0.2).send(USER_NUMBER, text("hi"))


async def test_typing_is_a_no_op_and_limits_follow_the_docs(fake: FakeTwilio, adapter: SmsAdapter) -> None:
    await adapter.typing(USER_NUMBER)
    assert fake.requests == []
    assert adapter.kind == "sms"
    assert adapter.limits == RateLimits(per_channel=1.0, per_recipient=1.0, burst=1)


async def test_webhooks_and_status_callbacks_from_the_fake_pass_end_to_end(
    fake: FakeTwilio, config: SmsConfig, http: aiohttp.ClientSession
) -> None:
    async with serve(SmsAdapter(config, http=http), "/hooks/sms/support") as hook:
        with_callback = SmsConfig(
            slug="s",
            account_sid=config.account_sid,
            auth_token=config.auth_token,
            from_number=FROM_NUMBER,
            api_base=config.api_base,
            status_callback=hook.url,
        )
        answer = await fake.deliver(hook.url, incoming_sms(body="hi", sid="SM10"))
        assert (answer.status, answer.content_type) == (200, "text/xml")
        (sid,) = (await SmsAdapter(with_callback, http=http).send(USER_NUMBER, text("hello"))).provider_ids
        assert (await fake.send_status(sid, "delivered")).status == 200
        forged = await fake.deliver(hook.url, incoming_sms(body="x"), signed_url=hook.url + "?other")
        assert forged.status == 403
    (inbound,), (status,) = (p.messages for p in hook.parsed)
    assert (inbound.kind, inbound.text, inbound.external_id) == ("text", "hi", "SM10")
    assert (status.kind, status.status, status.ref_id, status.sender) == ("status", "delivered", sid, USER_NUMBER)


def test_numbered_options() -> None:
    assert numbered_options(YES_NO) == "1. Yes\n2. No"


@pytest.mark.parametrize(
    ("reply", "payload"),
    [
        ("1", "answer:yes"),
        (" 2 ", "answer:no"),
        ("2.", "answer:no"),
        ("1)", "answer:yes"),
        ("#2", "answer:no"),
        ("yes", "answer:yes"),
        ("  NO ", "answer:no"),
        ("3", None),
        ("0", None),
        ("1 please", None),
        ("maybe", None),
        ("", None),
    ],
)
def test_resolve_numbered_reply(reply: str, payload: str | None) -> None:
    assert resolve_numbered_reply(reply, YES_NO) == payload
