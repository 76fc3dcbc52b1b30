"""The fake Graph API itself: it is reused by system tests, so its behaviour is pinned here."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.adapters.meta.support import TOKEN
from tests.fakes.meta import FakeMeta

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WA_TEXT = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "hi"}}


async def test_answers_in_the_documented_shapes(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{fake.api_base}/PHONE/messages", json=WA_TEXT, headers=AUTH) as response:
        assert await response.json() == {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "1", "wa_id": "1"}],
            "messages": [{"id": "wamid.FAKE00000001"}],
        }
    ig = {"recipient": {"id": "IGSID"}, "message": {"text": "hi"}}
    async with http.post(f"{fake.api_base}/IG/messages", json=ig, headers=AUTH) as response:
        assert await response.json() == {"recipient_id": "IGSID", "message_id": "m_FAKE00000002"}
    assert [(r.node, r.status) for r in fake.requests] == [("PHONE", 200), ("IG", 200)]


async def test_refuses_a_wrong_token_and_records_it(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{fake.api_base}/PHONE/messages", json=WA_TEXT) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == 190
    assert fake.requests[0].authorized is False
    assert fake.messages() == []


@pytest.mark.parametrize(
    "body",
    [
        {**WA_TEXT, "text": {"body": "x" * 4097}},
        {**WA_TEXT, "type": "carousel"},
        {"recipient": {"id": "IGSID"}, "message": {"text": "é" * 501}},
        {"recipient": {"id": "IGSID"}, "message": {"text": "hi", "quick_replies": [{"title": "t"}] * 14}},
        {"hello": "world"},
    ],
    ids=["wa-text-too-long", "wa-unknown-type", "ig-text-over-1000-bytes", "ig-14-quick-replies", "neither"],
)
async def test_refuses_undocumented_requests_with_code_100(
    fake: FakeMeta, http: aiohttp.ClientSession, body: dict[str, object]
) -> None:
    async with http.post(f"{fake.api_base}/NODE/messages", json=body, headers=AUTH) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == 100


async def test_failures_queue_in_order(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    fake.fail_next(500)
    fake.fail_next(429, retry_after=3, code=130429)
    statuses = []
    for _ in range(3):
        async with http.post(f"{fake.api_base}/PHONE/messages", json=WA_TEXT, headers=AUTH) as response:
            statuses.append((response.status, response.headers.get("Retry-After")))
    assert statuses == [(500, None), (429, "3"), (200, None)]


async def test_wait_for_returns_once_messages_arrive(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        async with http.post(f"{fake.api_base}/PHONE/messages", json=WA_TEXT, headers=AUTH):
            pass

    async with asyncio.TaskGroup() as group:
        group.create_task(later(), name="fake-meta-later-send")
        async with asyncio.timeout(2.0):
            assert await fake.wait_for(1, node="PHONE") == [WA_TEXT]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await fake.wait_for(2)


async def test_api_base_needs_the_server_running() -> None:
    with pytest.raises(RuntimeError):
        _ = FakeMeta().api_base
