"""Slack request signing: v0 HMAC-SHA256 over the raw body, a five-minute window, 401 vs 403."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from msgspec.structs import replace

from adapters.base import RawRequest
from adapters.errors import SignatureInvalid, SignatureMissing
from adapters.slack import SlackAdapter, SlackConfig
from tests.adapters.slack.support import SECRET, recorded, request, signed
from tests.adapters.support import serve
from tests.fakes.slack import FakeSlack, event_callback, message_event, sign_slack

# docs.slack.dev/authentication/verifying-requests-from-slack, worked example: this secret,
# timestamp and slash-command body give this signature (slack_sdk 3.48.0's
# SignatureVerifier.generate_signature gives the same).
DOCS_TS = 1531420618
DOCS_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOCS_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
# Produced with slack_sdk 3.48.0 in a throwaway venv outside the repo:
#   SignatureVerifier(SECRET).generate_signature(timestamp="1531420618", body=URL_VERIFICATION)
URL_VERIFICATION = (
    b'{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}'
)
SDK_SIGNATURE = "v0=31c4d19d16d8abc077240e904755d16d484f41140dfc80e5828ffa5470eb62ed"


@pytest.fixture
def parser(http: aiohttp.ClientSession) -> SlackAdapter:
    return SlackAdapter(SlackConfig(slug="team", bot_token="xoxb-1", signing_secret=SECRET), http=http)


def _with(body: bytes, **headers: str) -> RawRequest:
    return request(body, form=True, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_docs_vector_verifies(parser: SlackAdapter) -> None:
    req = _with(DOCS_BODY, x_slack_signature=DOCS_SIGNATURE, x_slack_request_timestamp=str(DOCS_TS))
    parser.verify(req, now=DOCS_TS + 5)


def test_sdk_vector_verifies(parser: SlackAdapter) -> None:
    req = _with(URL_VERIFICATION, x_slack_signature=SDK_SIGNATURE, x_slack_request_timestamp=str(DOCS_TS))
    parser.verify(req, now=DOCS_TS)


def test_fake_signer_matches_published_vectors() -> None:
    assert sign_slack(SECRET, DOCS_TS, DOCS_BODY) == DOCS_SIGNATURE
    assert sign_slack(SECRET, str(DOCS_TS), URL_VERIFICATION) == SDK_SIGNATURE


def test_signed_event_verifies(parser: SlackAdapter) -> None:
    parser.verify(signed(recorded("message_im"), ts=1_700_000_000), now=1_700_000_010)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: replace(r, body=r.body + b" "), id="body-changed"),
        pytest.param(lambda r: _header(r, "x-slack-signature", "v0=" + "0" * 64), id="forged-signature"),
        pytest.param(lambda r: _header(r, "x-slack-signature", r.headers["x-slack-signature"].upper()), id="case"),
        pytest.param(lambda r: _header(r, "x-slack-signature", r.headers["x-slack-signature"][3:]), id="no-v0"),
        pytest.param(lambda r: _header(r, "x-slack-request-timestamp", "1700000001"), id="other-timestamp"),
    ],
)
def test_forged_requests_are_refused(parser: SlackAdapter, tamper: Callable[[RawRequest], RawRequest]) -> None:
    good = signed(recorded("message_im"), ts=1_700_000_000)
    with pytest.raises(SignatureInvalid):
        parser.verify(tamper(good), now=1_700_000_000)


def test_other_secret_is_refused(parser: SlackAdapter) -> None:
    with pytest.raises(SignatureInvalid):
        parser.verify(signed(recorded("message_im"), ts=1_700_000_000, secret="not-the-secret"), now=1_700_000_000)


@pytest.mark.parametrize("missing", ["x-slack-signature", "x-slack-request-timestamp"])
def test_missing_headers_are_signature_missing(parser: SlackAdapter, missing: str) -> None:
    good = signed(recorded("message_im"), ts=1_700_000_000)
    headers = {k: v for k, v in good.headers.items() if k != missing}
    with pytest.raises(SignatureMissing):
        parser.verify(replace(good, headers=headers), now=1_700_000_000)


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_stale_timestamps_are_refused_even_when_signed(parser: SlackAdapter, skew: int) -> None:
    with pytest.raises(SignatureInvalid, match="stale"):
        parser.verify(signed(recorded("message_im"), ts=1_700_000_000), now=1_700_000_000 + skew)


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_the_window_is_inclusive_at_five_minutes(parser: SlackAdapter, skew: int) -> None:
    parser.verify(signed(recorded("message_im"), ts=1_700_000_000), now=1_700_000_000 + skew)


def test_non_numeric_timestamp_is_invalid(parser: SlackAdapter) -> None:
    good = signed(recorded("message_im"), ts=1_700_000_000)
    with pytest.raises(SignatureInvalid):
        parser.verify(_header(good, "x-slack-request-timestamp", "soon"), now=1_700_000_000)


async def test_deliveries_from_the_fake_pass_the_adapter_end_to_end(fake: FakeSlack, adapter: SlackAdapter) -> None:
    async with serve(adapter, "/hooks/slack/team") as hook:
        challenge = await fake.deliver(hook.url, {"token": "t", "challenge": "abc123", "type": "url_verification"})
        assert (challenge.status, challenge.body, challenge.content_type) == (200, b"abc123", "text/plain")
        event = event_callback(message_event(text="hi", channel="D1", ts="1700000000.000100"), event_id="Ev1")
        assert (await fake.deliver(hook.url, event, retry_num=1)).status == 200
        assert (await fake.deliver(hook.url, event, secret="wrong")).status == 403
        assert (await fake.deliver(hook.url, event, ts=1)).status == 403
    assert [m.text for p in hook.parsed for m in p.messages] == ["hi"]


def _header(r: RawRequest, name: str, value: str) -> RawRequest:
    return replace(r, headers={**r.headers, name: value})
