"""The shared Meta base: handshake, X-Hub-Signature-256, Graph error mapping, text fitting."""

from __future__ import annotations

import email.utils
import json
import socket

import aiohttp
import msgspec
import pytest

from adapters.base import RawRequest
from adapters.errors import (
    PermanentSendError,
    ProviderUnavailable,
    RateLimited,
    SignatureInvalid,
    SignatureMissing,
)
from adapters.meta import GraphClient, GraphRefused, MediaTooLarge, OutsideServiceWindow, handshake, verify_signature
from adapters.meta.graph import graph_error, parse_retry_after
from adapters.meta.text import numbered, split_text, truncate
from runtime.events import Button
from tests.adapters.meta.support import APP_SECRET, TOKEN, VERIFY_TOKEN, get, post, recorded
from tests.fakes.meta import FakeMeta, sign_meta

# ---- handshake -------------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_as_plain_text() -> None:
    # Meta's getting-started example values.
    request = get([("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "meatyhamhock")])
    reply = handshake(request, VERIFY_TOKEN)
    assert reply is not None
    assert (reply.status, reply.body, reply.content_type) == (200, b"1158201444", "text/plain")


@pytest.mark.parametrize(
    "query",
    [
        [("hub.mode", "subscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", "wrong")],
        [("hub.mode", "unsubscribe"), ("hub.challenge", "1158201444"), ("hub.verify_token", VERIFY_TOKEN)],
        [("hub.mode", "subscribe"), ("hub.verify_token", VERIFY_TOKEN)],
        [("hub.mode", "subscribe"), ("hub.challenge", "1")],
        [],
    ],
    ids=["wrong-token", "wrong-mode", "no-challenge", "no-token", "empty"],
)
def test_handshake_refuses_anything_else_with_403(query: list[tuple[str, str]]) -> None:
    reply = handshake(get(query), VERIFY_TOKEN)
    assert reply is not None
    assert reply.status == 403
    assert b"1158201444" not in reply.body


def test_handshake_with_an_empty_configured_token_refuses_an_empty_one() -> None:
    reply = handshake(get([("hub.mode", "subscribe"), ("hub.challenge", "1"), ("hub.verify_token", "")]), "")
    assert reply is not None and reply.status == 403


def test_handshake_ignores_posts() -> None:
    assert handshake(post(b"{}"), VERIFY_TOKEN) is None


# ---- signature -------------------------------------------------------------------------------


def _signed(body: bytes, header: str) -> RawRequest:
    return msgspec.structs.replace(post(body, secret=None), headers={"x-hub-signature-256": header})


def test_signature_over_the_raw_body_verifies() -> None:
    verify_signature(post(recorded("whatsapp", "text")), APP_SECRET)


def test_signature_matches_the_documented_vector() -> None:
    # GitHub documents the same scheme (X-Hub-Signature-256) with this secret, payload and digest.
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign_meta(secret, body) == expected
    verify_signature(_signed(body, expected), secret)


def test_uppercase_hex_is_accepted() -> None:
    body = b'{"object":"instagram","entry":[]}'
    header = "sha256=" + sign_meta(APP_SECRET, body).removeprefix("sha256=").upper()
    verify_signature(_signed(body, header), APP_SECRET)


def test_forged_signature_is_invalid() -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(post(recorded("whatsapp", "text"), secret="not-the-app-secret"), APP_SECRET)


def test_missing_signature_is_missing() -> None:
    with pytest.raises(SignatureMissing):
        verify_signature(post(recorded("whatsapp", "text"), secret=None), APP_SECRET)


def test_signature_over_a_reserialised_body_is_invalid() -> None:
    # Same JSON, different bytes: the signature covers bytes, so a parse-and-dump breaks it.
    original = recorded("whatsapp", "text")
    reserialised = json.dumps(json.loads(original), separators=(",", ":")).encode()
    assert reserialised != original
    tampered = msgspec.structs.replace(post(original), body=reserialised)
    with pytest.raises(SignatureInvalid):
        verify_signature(tampered, APP_SECRET)


@pytest.mark.parametrize("header", ["sha1=abc", "abc", "sha256=", "sha256=zz\u00e9"])
def test_malformed_signature_header_is_invalid(header: str) -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(_signed(b"{}", header), APP_SECRET)


def test_an_empty_app_secret_verifies_nothing() -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature(post(b"{}", secret=""), "")


# ---- Graph error mapping ---------------------------------------------------------------------


def _error(code: int | None, subcode: int | None = None, **extra: object) -> bytes:
    error: dict[str, object] = {"message": "boom", "type": "OAuthException", "fbtrace_id": "Atrace", **extra}
    if code is not None:
        error["code"] = code
    if subcode is not None:
        error["error_subcode"] = subcode
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("code", "wait"),
    [(131056, 6.0), (130429, 1.0), (131048, 60.0), (80007, 60.0), (4, 60.0), (613, 60.0), (None, 60.0)],
)
def test_rate_limit_codes_wait_a_documented_or_conservative_time(code: int | None, wait: float) -> None:
    err = graph_error(429 if code is None else 400, {}, _error(code), now=0.0)
    assert isinstance(err, RateLimited)
    assert err.retry_after == wait


def test_retry_after_header_wins_over_the_default() -> None:
    err = graph_error(429, {"Retry-After": "17"}, _error(131056), now=0.0)
    assert isinstance(err, RateLimited) and err.retry_after == 17.0


def test_retry_after_zero_means_now() -> None:
    err = graph_error(429, {"Retry-After": "0"}, _error(131056), now=0.0)
    assert isinstance(err, RateLimited) and err.retry_after == 0.0


def test_business_use_case_header_gives_minutes_to_wait() -> None:
    usage = json.dumps(
        {"102290129340398": [{"type": "whatsapp", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    )
    err = graph_error(400, {"X-Business-Use-Case-Usage": usage}, _error(80007), now=0.0)
    assert isinstance(err, RateLimited) and err.retry_after == 180.0


def test_retry_after_parses_http_dates() -> None:
    now = 1_717_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) == 0.0


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, _error(1)), (502, b"<html>bad gateway</html>"), (400, _error(2)), (400, _error(100, is_transient=True))],
)
def test_server_side_and_transient_errors_are_retryable(status: int, body: bytes) -> None:
    err = graph_error(status, {}, body, now=0.0)
    assert isinstance(err, ProviderUnavailable) and err.retryable


def test_131047_is_outside_the_service_window() -> None:
    err = graph_error(400, {}, _error(131047), now=0.0)
    assert isinstance(err, OutsideServiceWindow) and isinstance(err, PermanentSendError)
    assert (err.status, err.code, err.fbtrace_id) == (400, 131047, "Atrace")
    assert not err.retryable


def test_instagram_outside_window_subcode_is_outside_the_service_window() -> None:
    assert isinstance(graph_error(400, {}, _error(10, 2018278), now=0.0), OutsideServiceWindow)
    assert type(graph_error(400, {}, _error(10), now=0.0)) is GraphRefused


def test_other_client_errors_are_permanent_and_carry_the_code() -> None:
    err = graph_error(400, {}, _error(131026, 2494010), now=0.0)
    assert type(err) is GraphRefused
    assert (err.code, err.subcode) == (131026, 2494010)
    assert "131026" in str(err) and "boom" in str(err)


# ---- the HTTP client -------------------------------------------------------------------------


async def test_client_sends_the_bearer_token_and_never_shows_it(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    graph = GraphClient(http=http, api_base=fake.api_base, access_token=TOKEN)
    assert TOKEN not in repr(graph)
    fake.fail_next(400, code=100, message="Invalid parameter")
    with pytest.raises(GraphRefused) as caught:
        await graph.post("/123/messages", {"messaging_product": "whatsapp"})
    assert TOKEN not in str(caught.value)
    assert fake.requests[-1].authorized


async def test_a_wrong_token_is_a_permanent_error(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    graph = GraphClient(http=http, api_base=fake.api_base, access_token="expired")
    with pytest.raises(GraphRefused) as caught:
        await graph.get("/123")
    assert (caught.value.status, caught.value.code) == (401, 190)
    assert "expired" not in str(caught.value)


async def test_connection_refused_is_provider_unavailable(http: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    graph = GraphClient(http=http, api_base=f"http://127.0.0.1:{port}/v23.0", access_token=TOKEN)
    with pytest.raises(ProviderUnavailable):
        await graph.post("/123/messages", {})


async def test_a_timeout_is_provider_unavailable(http: aiohttp.ClientSession) -> None:
    # A listener that accepts and never answers.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        graph = GraphClient(http=http, api_base=f"http://127.0.0.1:{port}/v23.0", access_token=TOKEN, timeout=0.2)
        with pytest.raises(ProviderUnavailable) as caught:
            await graph.post("/123/messages", {})
    assert "Timeout" in str(caught.value)


async def test_media_over_the_limit_is_refused_while_streaming(fake: FakeMeta, http: aiohttp.ClientSession) -> None:
    fake.add_media("42", b"x" * 5000)
    graph = GraphClient(http=http, api_base=fake.api_base, access_token=TOKEN)
    with pytest.raises(MediaTooLarge):
        await graph.download(fake.api_base.rsplit("/", 1)[0] + "/media/42", max_bytes=1000)


# ---- text fitting ----------------------------------------------------------------------------


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello", 10) == ["hello"]
    assert split_text("", 10) == [""]


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    text = "aaaa bbbb\n\ncccc dddd"
    assert split_text(text, 15) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb\ncccc dddd", 15) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb cccc dddd", 15) == ["aaaa bbbb cccc", "dddd"]


def test_split_cuts_hard_when_there_is_no_break() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_keeps_every_word_and_respects_the_limit() -> None:
    words = [f"word{i}" for i in range(2000)]
    chunks = split_text(" ".join(words), 4096)
    assert all(len(c) <= 4096 for c in chunks)
    assert " ".join(chunks).split() == words


def test_split_by_utf8_bytes_never_cuts_a_character() -> None:
    text = "é" * 700  # 1,400 bytes
    chunks = split_text(text, 1000, utf8=True)
    assert [len(c.encode()) for c in chunks] == [1000, 400]
    assert "".join(chunks) == text
    emoji = "\U0001f600" * 300  # four bytes each
    assert all(len(c.encode()) <= 1000 for c in split_text(emoji, 1000, utf8=True))


def test_truncate_and_numbered() -> None:
    assert truncate("Opening hours", 20) == "Opening hours"
    assert truncate("A very long button title indeed", 20) == "A very long button …"
    assert len(truncate("A very long button title indeed", 20)) == 20
    buttons = (Button(title="Yes", payload="y"), Button(title="No", payload="n"))
    assert numbered("Continue?", buttons) == "Continue?\n\n1. Yes\n2. No"
