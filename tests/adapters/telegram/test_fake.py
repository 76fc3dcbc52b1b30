"""The fake Bot API itself: formats it reads and answers, injected failures, webhook delivery."""

from __future__ import annotations

import json

import aiohttp
import pytest

from adapters.telegram import ALLOWED_UPDATES, TelegramAdapter
from tests.adapters.support import serve
from tests.adapters.telegram.support import SECRET
from tests.fakes.telegram import FakeTelegram, callback_update, text_update


async def _post(http: aiohttp.ClientSession, url: str, **kwargs: object) -> tuple[int, dict[str, object]]:
    async with http.post(url, **kwargs) as response:  # type: ignore[arg-type]
        body: dict[str, object] = await response.json()
        return response.status, body


async def test_answers_in_the_documented_envelope(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    status, body = await _post(http, f"{fake.api_base}/bot{fake.token}/sendMessage", json={"chat_id": 5, "text": "x"})
    assert status == 200 and body["ok"] is True
    result = body["result"]
    assert isinstance(result, dict)
    assert result["message_id"] == 1 and result["text"] == "x" and result["chat"] == {"id": 5, "type": "private"}
    assert result["from"]["is_bot"] is True


async def test_reads_form_and_multipart_parameters(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    await _post(
        http,
        f"{fake.api_base}/bot{fake.token}/sendMessage",
        data={"chat_id": "5", "text": "hi", "reply_markup": markup},
    )
    form = aiohttp.FormData()
    form.add_field("chat_id", "5")
    form.add_field("photo", b"\x89PNG...", filename="p.png", content_type="image/png")
    await _post(http, f"{fake.api_base}/bot{fake.token}/sendPhoto", data=form)
    first, second = fake.requests
    assert first.content_type == "application/x-www-form-urlencoded"
    assert first.params == {"chat_id": "5", "text": "hi", "reply_markup": json.loads(markup)}
    assert (second.content_type, second.params, second.status) == (
        "multipart/form-data",
        {"chat_id": "5", "photo": b"\x89PNG..."},
        200,
    )


async def test_refuses_a_wrong_token_and_unknown_methods(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    status, body = await _post(http, f"{fake.api_base}/bot1:nope/sendMessage", json={"chat_id": 5, "text": "x"})
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await _post(http, f"{fake.api_base}/bot{fake.token}/sendTelepathy", json={})
    assert (status, body["description"]) == (404, "Not Found")
    assert [r.status for r in fake.requests] == [401, 404]


async def test_refuses_what_telegram_refuses(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    base = f"{fake.api_base}/bot{fake.token}"
    cases = [
        ("sendMessage", {"chat_id": 5, "text": "x" * 4097}, "Bad Request: message is too long"),
        ("sendMessage", {"text": "x"}, "Bad Request: chat_id is empty"),
        (
            "sendMessage",
            {
                "chat_id": 5,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "d" * 65}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        ("sendPhoto", {"chat_id": 5, "photo": "p", "caption": "c" * 1025}, "Bad Request: message caption is too long"),
        ("sendChatAction", {"chat_id": 5, "action": "dancing"}, "Bad Request: wrong parameter action in request"),
        (
            "setWebhook",
            {"url": "https://x", "secret_token": "no spaces"},
            "Bad Request: secret token contains unallowed characters",
        ),
    ]
    for method, params, description in cases:
        status, body = await _post(http, f"{base}/{method}", json=params)
        assert (status, body["description"]) == (400, description), method


async def test_fail_next_counts_and_filters_by_method(fake: FakeTelegram, http: aiohttp.ClientSession) -> None:
    base = f"{fake.api_base}/bot{fake.token}"
    fake.fail_next(429, count=2, retry_after=3, method="sendMessage")
    statuses = []
    for method in ["sendChatAction", "sendMessage", "sendMessage", "sendMessage"]:
        status, body = await _post(http, f"{base}/{method}", json={"chat_id": 5, "text": "x", "action": "typing"})
        statuses.append(status)
    assert statuses == [200, 429, 429, 200]
    assert body["ok"] is True
    fake.fail_next(429, retry_after=3)
    status, body = await _post(http, f"{base}/sendMessage", json={"chat_id": 5, "text": "x"})
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )


async def test_wait_for_reports_what_did_arrive(fake: FakeTelegram, adapter: TelegramAdapter) -> None:
    await adapter.typing("5")
    with pytest.raises(
        AssertionError, match=r"expected 1 sendMessage call\(s\) within 0.05 s; got \['sendChatAction'\]"
    ):
        await fake.wait_for("sendMessage", within=0.05)
    fake.reset()
    assert fake.requests == [] and fake.webhook is None


async def test_deliver_plays_telegram_against_a_webhook_using_the_adapter(
    fake: FakeTelegram, adapter: TelegramAdapter
) -> None:
    """Round trip: setWebhook through the adapter, then Telegram's POSTs verified and parsed by it."""
    async with serve(adapter, "/hook") as hook:
        await adapter.set_webhook(hook.url, SECRET, ALLOWED_UPDATES)
        assert await fake.deliver(text_update(501, 77, "hello")) == 200
        assert await fake.deliver(callback_update(502, 77, "yes", buttons={"yes": "Yes!", "no": "No"})) == 200
        assert await fake.deliver(text_update(503, 77, "forged"), secret_token="wrong") == 403
    (hello,), (press,) = (p.messages for p in hook.parsed)
    assert (hello.external_id, hello.sender, hello.kind, hello.text) == ("501", "77", "text", "hello")
    assert (press.kind, press.payload, press.title, press.ref_id) == ("postback", "yes", "Yes!", "cq502")
