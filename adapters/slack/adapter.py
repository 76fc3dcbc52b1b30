"""Slack Events API in, chat.postMessage out."""

from __future__ import annotations

import hashlib
import hmac
import time
from email.utils import parsedate_to_datetime
from typing import ClassVar, Final, final

import aiohttp
import msgspec
from yarl import URL

from adapters.base import HttpReply, Parsed, RateLimits, RawRequest, SendResult
from adapters.download import read_capped
from adapters.errors import (
    PermanentSendError,
    ProviderUnavailable,
    RateLimited,
    SignatureInvalid,
    SignatureMissing,
)
from adapters.platform_http import PlatformHttp, TransportError, post_call
from adapters.slack.config import SlackConfig
from adapters.slack.inbound import parse_request
from adapters.slack.render import ENCODER, PostMessage, render
from runtime.events import OutboundMessage

# "reject if abs(now - timestamp) > 300 s" (slack_sdk SignatureVerifier; PROTOCOLS.md §1).
MAX_SKEW_S: Final = 300
# Slack's posting limit is per second, so a rate-limited answer without Retry-After waits one.
DEFAULT_RETRY_AFTER: Final = 1.0
# Per Web API call; a slower one fails as ProviderUnavailable and the outbox retries it.
REQUEST_TIMEOUT_S: Final = 10.0
# A file download (a voice clip) may take longer than an API call.
DOWNLOAD_TIMEOUT_S: Final = 60.0
# Where url_private points on the real Slack; the configured api_base's host is allowed too
# (a proxy, or a fake in tests). The bot token goes to no other host.
FILES_HOST: Final = "files.slack.com"
# Web API errors that say "try again", unlike channel_not_found, not_in_channel, invalid_auth,
# msg_too_long, ... which no retry fixes.
_RATE_LIMITED: Final = frozenset({"ratelimited", "rate_limited"})
_TRANSIENT: Final = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})


class ApiResponse(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The Web API's answer envelope."""

    ok: bool
    error: str | None = None
    ts: str | None = None


_RESPONSE: Final = msgspec.json.Decoder(ApiResponse)


def retry_after(value: str | None, now: float) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date), never negative."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def _outcome(status: int, retry_header: str | None, body: bytes) -> str:
    """The posted message's ts, or the error the answer means."""
    if status == 429:
        raise RateLimited(retry_after(retry_header, time.time()), "slack chat.postMessage")
    if status >= 500:
        raise ProviderUnavailable(f"slack answered HTTP {status}")
    try:
        answer = _RESPONSE.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        if status >= 400:
            raise PermanentSendError(status, body[:200].decode("utf-8", "replace")) from exc
        # A 2xx that is not the Web API's JSON comes from a proxy in between, not from Slack.
        raise ProviderUnavailable(f"slack answered HTTP {status} without a Web API body") from exc
    if answer.ok and answer.ts:
        return answer.ts
    error = answer.error or "unknown_error"
    if error in _RATE_LIMITED:
        raise RateLimited(retry_after(retry_header, time.time()), f"slack {error}")
    if error in _TRANSIENT:
        raise ProviderUnavailable(f"slack {error}")
    # Slack reports most refusals as HTTP 200 {"ok": false}; status says which it was.
    raise PermanentSendError(status, error)


@final
class SlackAdapter:
    """One Slack app install: verifies and parses its webhooks, posts its messages."""

    kind: ClassVar[str] = "slack"
    # "one message per second per channel ... short bursts >1 allowed", plus an unpublished
    # workspace-wide limit (PROTOCOLS.md §1, "Rate limit"). per_recipient is the per-channel
    # second; per_channel (the whole install) is a conservative 5/s because Slack publishes no
    # number: a 429 carries Retry-After, which pauses the channel in the outbox.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=5.0, per_recipient=1.0, burst=3)
    get_webhooks: ClassVar[bool] = False  # events and interactivity are always POSTed

    def __init__(
        self,
        config: SlackConfig,
        *,
        http: aiohttp.ClientSession,
        timeout: float = REQUEST_TIMEOUT_S,
        api: PlatformHttp | None = None,
    ) -> None:
        self.config = config
        self._http = http  # file downloads, and API calls when no lean client is given
        self._api = api
        self._timeout = timeout
        self._post_url = URL(f"{config.api_base.rstrip('/')}/chat.postMessage")
        self._headers = {
            "Authorization": f"Bearer {config.bot_token}",
            # Without a charset Slack answers with a missing_charset warning.
            "Content-Type": "application/json; charset=utf-8",
        }

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Slack has no GET handshake; url_verification is a signed POST (see parse)."""
        return None

    def verify(self, request: RawRequest, now: float) -> None:
        """v0 HMAC-SHA256 over "v0:{timestamp}:{raw body}", within five minutes of now."""
        signature = request.header("x-slack-signature")
        timestamp = request.header("x-slack-request-timestamp")
        if not signature or not timestamp:
            raise SignatureMissing("X-Slack-Signature or X-Slack-Request-Timestamp missing")
        try:
            sent_at = int(timestamp)
        except ValueError as exc:
            raise SignatureInvalid("X-Slack-Request-Timestamp is not an integer") from exc
        # Checked before the HMAC so a replayed request is refused whatever its signature.
        if abs(now - sent_at) > MAX_SKEW_S:
            raise SignatureInvalid("stale: X-Slack-Request-Timestamp is more than 300 s from now")
        base = b"v0:" + timestamp.encode() + b":" + request.body
        expected = "v0=" + hmac.new(self.config.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureInvalid("X-Slack-Signature does not match")

    def parse(self, request: RawRequest) -> Parsed:
        """Events, url_verification and block_actions; X-Slack-Retry-Num changes nothing."""
        return parse_request(request, bot_user_id=self.config.bot_user_id)

    def ack(self, parsed: Parsed) -> HttpReply:
        """An empty 200: Slack only wants a 2xx within three seconds."""
        return HttpReply(status=200)

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Posts to the channel (and thread) named by recipient; returns the messages' ts."""
        calls = render(recipient, message)
        return SendResult(provider_ids=tuple([await self._post(call) for call in calls]))

    async def typing(self, recipient: str) -> None:
        """Does nothing: Events API bots have no typing indicator (only the legacy RTM had one)."""

    async def fetch_url(self, url: str, *, max_bytes: int) -> bytes:
        """Downloads a file's url_private with the bot token (files:read), at most max_bytes.

        Slack answers a request without a valid token with its HTML sign-in page and status
        200, so an HTML answer is refused like an error rather than taken for the file.
        """
        host = URL(url).host
        if host not in (FILES_HOST, URL(self.config.api_base).host):
            raise PermanentSendError(400, f"slack: refusing to send the bot token to {host!r}")
        headers = {"Authorization": self._headers["Authorization"]}
        try:
            async with self._http.get(
                url, headers=headers, timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S)
            ) as response:
                if response.status != 200:
                    raise ProviderUnavailable(f"slack file download: HTTP {response.status}")
                if response.content_type == "text/html":
                    raise PermanentSendError(401, "slack file download: got the sign-in page (token lacks files:read?)")
                body = await read_capped(response, max_bytes)
                if body is None:
                    raise PermanentSendError(413, f"slack file download: over {max_bytes} bytes")
                return body
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ProviderUnavailable(f"slack file download: {type(exc).__name__}") from None

    async def _post(self, call: PostMessage) -> str:
        try:
            body = ENCODER.encode(call)
            answer = await post_call(
                self._api, self._http, self._post_url, body, headers=self._headers, within_s=self._timeout
            )
        except (TransportError, TimeoutError) as exc:
            raise ProviderUnavailable(f"slack chat.postMessage: {exc!r}") from exc
        return _outcome(answer.status, answer.headers.get("retry-after"), answer.body)
