"""Twilio Programmable Messaging: signed webhooks in, Messages.json out."""

from __future__ import annotations

import base64
import time
from email.utils import parsedate_to_datetime
from typing import ClassVar, Final, final
from urllib.parse import urlencode

import aiohttp
import msgspec
import yarl

from adapters.base import HttpReply, Parsed, RateLimits, RawRequest, SendResult
from adapters.errors import PermanentSendError, ProviderUnavailable, RateLimited
from adapters.platform_http import PlatformHttp, TransportError, post_call
from adapters.sms.config import SmsConfig
from adapters.sms.inbound import parse_request
from adapters.sms.render import Form, render
from adapters.sms.signature import verify_request
from runtime.events import OutboundMessage

# What twilio.twiml.messaging_response.MessagingResponse() emits: no reply in the webhook; the
# bot answers later through the REST API.
EMPTY_TWIML: Final = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
DEFAULT_RETRY_AFTER: Final = 1.0
# Per REST call; a slower one fails as ProviderUnavailable and the outbox retries it.
REQUEST_TIMEOUT_S: Final = 15.0


class MessageResource(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The created Message (201): only its sid matters here."""

    sid: str
    status: str | None = None


class TwilioError(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Twilio's error body: {code, message, more_info, status}."""

    code: int | None = None
    message: str | None = None
    more_info: str | None = None


_RESOURCE: Final = msgspec.json.Decoder(MessageResource)
_ERROR: Final = msgspec.json.Decoder(TwilioError)


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


def _error_detail(body: bytes) -> str:
    try:
        error = _ERROR.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return body[:200].decode("utf-8", "replace")
    # The code (e.g. 21211 invalid 'To', 21610 unsubscribed recipient) is what support asks for.
    return f"{error.code} {error.message or ''} {error.more_info or ''}".strip()


def _outcome(status: int, retry_header: str | None, body: bytes) -> str:
    """The created message's sid, or the error the answer means."""
    if status == 429:
        raise RateLimited(retry_after(retry_header, time.time()), f"twilio: {_error_detail(body)}")
    if status >= 500:
        raise ProviderUnavailable(f"twilio answered HTTP {status}: {_error_detail(body)}")
    if 400 <= status < 500:
        raise PermanentSendError(status, _error_detail(body))
    if not 200 <= status < 300:
        raise ProviderUnavailable(f"twilio answered HTTP {status}")
    try:
        return _RESOURCE.decode(body).sid
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        # A 2xx that is not a Message resource comes from something in between, not Twilio.
        raise ProviderUnavailable(f"twilio answered HTTP {status} without a Message resource") from exc


@final
class SmsAdapter:
    """One Twilio sender: verifies and parses its webhooks, sends through the REST API."""

    kind: ClassVar[str] = "sms"
    # "a US long code number can send one message segment per second" (PROTOCOLS.md §4,
    # Throughput); Twilio queues the excess rather than refusing it, and counts segments, so a
    # long text is several seconds of the sender's time. Short codes and Messaging Services go
    # faster: raise max_send_rate in the channel table for them.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=1.0, per_recipient=1.0, burst=1)
    # A number's messaging webhook may be configured as HTTP GET: "Twilio cannot cache POST
    # requests" (PROTOCOLS.md §4). It is signed over the full URL, query included, and nothing else.
    get_webhooks: ClassVar[bool] = True

    def __init__(
        self,
        config: SmsConfig,
        *,
        http: aiohttp.ClientSession,
        timeout: float = REQUEST_TIMEOUT_S,
        api: PlatformHttp | None = None,
    ) -> None:
        self.config = config
        self._http = http
        self._api = api  # the lean client for Messages.json, when the runtime gives one
        self._timeout = timeout
        self._url = yarl.URL(f"{config.api_base.rstrip('/')}/2010-04-01/Accounts/{config.account_sid}/Messages.json")
        # Built by hand: aiohttp.BasicAuth is deprecated in aiohttp 3.14 and encode_basic_auth
        # does not exist before it.
        credentials = base64.b64encode(f"{config.account_sid}:{config.auth_token}".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Twilio has no verification handshake."""
        return None

    def verify(self, request: RawRequest, now: float) -> None:
        """X-Twilio-Signature over request.url (with and without port) and the form parameters."""
        verify_request(request, self.config.auth_token)

    def parse(self, request: RawRequest) -> Parsed:
        """Incoming messages and status callbacks (those carry MessageStatus)."""
        return parse_request(request)

    def ack(self, parsed: Parsed) -> HttpReply:
        """Empty TwiML: Twilio expects TwiML from a message webhook; it sends nothing back."""
        return HttpReply(status=200, body=EMPTY_TWIML, content_type="text/xml")

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Creates one Message per chunk (Body at most 1600 characters); returns their SM sids."""
        forms = render(recipient, message, sender=self.config.from_number, status_callback=self.config.status_callback)
        return SendResult(provider_ids=tuple([await self._create(form) for form in forms]))

    async def typing(self, recipient: str) -> None:
        """Does nothing: SMS has no typing indicator."""

    async def _create(self, form: Form) -> str:
        body = urlencode(form).encode()
        try:
            answer = await post_call(
                self._api, self._http, self._url, body, headers=self._headers, within_s=self._timeout
            )
        except (TransportError, TimeoutError) as exc:
            raise ProviderUnavailable(f"twilio Messages.json: {exc!r}") from exc
        return _outcome(answer.status, answer.headers.get("retry-after"), answer.body)
