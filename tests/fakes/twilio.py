"""A fake Twilio Messages API on loopback, and Twilio's side of the messaging webhooks.

    async with FakeTwilio() as fake:
        adapter = SmsAdapter(SmsConfig(slug="sms", account_sid=fake.account_sid, auth_token=fake.auth_token,
                                       from_number=FROM_NUMBER, api_base=fake.api_base), http=s)
        fake.fail_next("http_429", retry_after=3)
        ...
        assert fake.messages[0].form == [("To", "+15551230001"), ("From", FROM_NUMBER), ("Body", "hi")]
        await fake.deliver(hook_url, incoming_sms(body="hello"))
        await fake.deliver_get(hook_url, incoming_sms(body="hello"))   # a number set to HTTP GET
        await fake.send_status(sid, "delivered")

POST /2010-04-01/Accounts/{AccountSid}/Messages.json takes HTTP Basic auth and a form body and
answers 201 with the Message resource (sid "SM" + 32 hex, status "queued"), or Twilio's error
JSON {code, message, more_info, status}: 401/20003 for bad credentials, 400/21604 no To,
400/21603 no From, 400/21602 no Body or MediaUrl, 400/21617 Body over 1600 characters.
``deliver``, ``deliver_get`` and ``send_status`` sign their requests as Twilio does, independently of the
adapter's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from yarl import URL

from tests.fakes.server import Delivery, LoopbackServer

DEFAULT_ACCOUNT_SID: Final = "AC" + "0" * 30 + "01"
DEFAULT_AUTH_TOKEN: Final = "fake_auth_token_0123456789abcdef"
FROM_NUMBER: Final = "+15005550006"
USER_NUMBER: Final = "+15551230001"
MAX_BODY: Final = 1600

TwilioFailure = Literal["http_429", "http_500", "http_400"]
Params = Mapping[str, str] | Iterable[tuple[str, str]]
# The fake's answer builder: (status, JSON body, sid=None, headers=None) -> response, recorded.
Answer = Callable[..., web.Response]


def _pairs(params: Params) -> list[tuple[str, str]]:
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def sign_twilio(auth_token: str, url: str, params: Params = ()) -> str:
    """X-Twilio-Signature as Twilio's "Secure webhooks" page describes it.

    base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...)) with the names in
    case-sensitive sorted order; a repeated name contributes its distinct values, sorted (what
    twilio-python's RequestValidator does). For GET or JSON requests pass no params.
    """
    signed = url
    for name in sorted({name for name, _ in _pairs(params)}):
        for value in sorted({v for n, v in _pairs(params) if n == name}):
            signed += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def sign_twilio_json(auth_token: str, url: str, body: bytes) -> tuple[str, str]:
    """A JSON webhook: the URL with bodySHA256 added, and the signature over that URL alone."""
    separator = "&" if "?" in url else "?"
    signed_url = f"{url}{separator}bodySHA256={hashlib.sha256(body).hexdigest()}"
    return signed_url, sign_twilio(auth_token, signed_url)


# ---- payload builders (twilio.com/docs/messaging/guides/webhook-request) ---------------------

_sids = itertools.count(1)


def message_sid() -> str:
    """A fresh SM sid, unique in this process."""
    return f"SM{next(_sids):032x}"


def incoming_sms(
    *,
    body: str = "hello",
    from_: str = USER_NUMBER,
    to: str = FROM_NUMBER,
    sid: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    media: Sequence[tuple[str, str]] = (),
    **extra: str,
) -> list[tuple[str, str]]:
    """The form parameters of an incoming SMS/MMS; media is (url, content type) pairs.

    Keyword arguments add parameters (ProfileName="Ann") or replace defaults (NumMedia="2").
    """
    message = sid or message_sid()
    params = [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", message),
        ("NumMedia", str(len(media))),
        ("ToCity", ""),
        ("FromZip", "94105"),
        ("SmsSid", message),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", to),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", message),
        ("AccountSid", account_sid),
        ("From", from_),
        ("ApiVersion", "2010-04-01"),
    ]
    for index, (url, content_type) in enumerate(media):
        params += [(f"MediaContentType{index}", content_type), (f"MediaUrl{index}", url)]
    # An extra parameter replaces the default of the same name in place, else is appended.
    for name, value in extra.items():
        at = next((i for i, (n, _) in enumerate(params) if n == name), None)
        if at is None:
            params.append((name, value))
        else:
            params[at] = (name, value)
    return params


def status_callback(
    sid: str,
    status: str,
    *,
    to: str = USER_NUMBER,
    from_: str = FROM_NUMBER,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    error_code: str | None = None,
) -> list[tuple[str, str]]:
    """The form parameters of a status callback for an outbound message."""
    params = [
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", to),
        ("MessageSid", sid),
        ("AccountSid", account_sid),
        ("From", from_),
        ("ApiVersion", "2010-04-01"),
    ]
    if error_code is not None:
        params.append(("ErrorCode", error_code))
    return params


# ---- the fake ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwilioCall:
    """One REST call as the fake received it, and what it answered."""

    method: str
    path: str
    form: list[tuple[str, str]]
    credentials: tuple[str, str] | None  # Basic auth (username, password)
    status: int
    sid: str | None  # the created Message's sid when accepted

    def get(self, name: str) -> str | None:
        """The first value of a form parameter."""
        return next((v for n, v in self.form if n == name), None)

    def getall(self, name: str) -> list[str]:
        """Every value of a repeatable form parameter (MediaUrl)."""
        return [v for n, v in self.form if n == name]


@dataclass(slots=True)
class _Rule:
    remaining: int
    failure: TwilioFailure
    retry_after: int | None
    code: int | None
    message: str | None


@dataclass(slots=True)
class _State:
    requests: list[TwilioCall] = field(default_factory=list)
    failures: list[_Rule] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    callbacks: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # sid -> (url, to, from)


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(LoopbackServer):
    """The Twilio Messages API on 127.0.0.1, an ephemeral port; use as an async context manager."""

    def __init__(self, *, account_sid: str = DEFAULT_ACCOUNT_SID, auth_token: str = DEFAULT_AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = _State()
        self._sids = itertools.count(1)

    def _routes(self) -> list[web.RouteDef]:
        return [web.post("/2010-04-01/Accounts/{account}/Messages.json", self._create)]

    @property
    def api_base(self) -> str:
        """The adapter's api_base, e.g. http://127.0.0.1:40123 (/2010-04-01/... is appended)."""
        return self.origin

    # ---- what tests read -----------------------------------------------------------------------

    @property
    def requests(self) -> list[TwilioCall]:
        """Every REST call received, in order, refused ones included."""
        return self._state.requests

    @property
    def messages(self) -> list[TwilioCall]:
        """The accepted (201) Messages.json calls, in order."""
        return [r for r in self._state.requests if r.sid is not None]

    def bodies(self, to: str | None = None) -> list[str]:
        """The Body of accepted messages, optionally to one number."""
        return [m.get("Body") or "" for m in self.messages if to is None or m.get("To") == to]

    async def wait_for(self, count: int = 1, *, within: float = 5.0) -> list[TwilioCall]:
        """Waits until at least count messages were accepted and returns them."""
        try:
            await self._wait_until(lambda: len(self.messages) >= count, within)
        except TimeoutError:
            raise AssertionError(f"expected {count} message(s) within {within} s; got {self.messages}") from None
        return self.messages

    # ---- what tests arrange --------------------------------------------------------------------

    def fail_next(
        self,
        failure: TwilioFailure,
        *,
        times: int = 1,
        retry_after: int | None = None,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Refuses the next `times` Messages.json calls with Twilio's error JSON.

        http_429: 429 code 20429 (+ Retry-After when retry_after is given); http_500: 500 code
        20500; http_400: 400 code 21211 (invalid To) unless code/message say otherwise.
        """
        self._state.failures.append(
            _Rule(remaining=times, failure=failure, retry_after=retry_after, code=code, message=message)
        )

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Holds the next `times` answers for seconds (to provoke client timeouts)."""
        self._state.delays.extend([seconds] * times)

    def clear(self) -> None:
        """Forgets recorded calls, pending failures and delays, and status callback URLs."""
        self._state = _State()

    async def deliver(self, url: str, params: Params, *, signed_url: str | None = None) -> Delivery:
        """POSTs a signed messaging webhook (form) to url; signed_url if the public URL differs."""
        pairs = _pairs(params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign_twilio(self.auth_token, signed_url or url, pairs),
            "I-Twilio-Idempotency-Token": hashlib.sha1(repr(pairs).encode()).hexdigest(),
        }
        return await self._post(url, urlencode(pairs), headers)

    async def deliver_get(self, url: str, params: Params, *, signed_url: str | None = None) -> Delivery:
        """GETs a messaging webhook as a number set to HTTP GET does: the parameters in the query.

        The signature covers the full URL, query included, with no parameters appended. The
        query is form-encoded ("+" for a space, "%2B" for a plus) and sent as is, so a server
        that re-encodes or decodes the URL before checking it fails.
        """
        query = urlencode(_pairs(params))
        signature = sign_twilio(self.auth_token, f"{signed_url or url}?{query}")
        target = URL(f"{url}?{query}", encoded=True)
        async with self._client().get(target, headers={"X-Twilio-Signature": signature}) as response:
            return Delivery(status=response.status, body=await response.read(), content_type=response.content_type)

    async def send_status(
        self, sid: str, status: str, *, error_code: str | None = None, signed_url: str | None = None
    ) -> Delivery:
        """Posts a status callback for a message this fake created, to the StatusCallback it was given."""
        if sid not in self._state.callbacks:
            raise KeyError(f"{sid} was not created with a StatusCallback")
        url, to, sender = self._state.callbacks[sid]
        params = status_callback(sid, status, to=to, from_=sender, account_sid=self.account_sid, error_code=error_code)
        return await self.deliver(url, params, signed_url=signed_url)

    # ---- the server ----------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        form = parse_qsl((await request.read()).decode(), keep_blank_values=True)
        credentials = _basic(request.headers.get("Authorization"))
        response = self._respond(request, form, credentials)
        if self._state.delays:
            await self._sleep(self._state.delays.pop(0))
        return response

    def _respond(
        self, request: web.Request, form: list[tuple[str, str]], credentials: tuple[str, str] | None
    ) -> web.Response:
        def answer(
            status: int, body: Mapping[str, Any], sid: str | None = None, headers: Mapping[str, str] | None = None
        ) -> web.Response:
            call = TwilioCall(request.method, request.path, form, credentials, status, sid)
            self._state.requests.append(call)
            self._recorded()
            return web.json_response(body, status=status, headers=headers)

        if credentials != (self.account_sid, self.auth_token):
            return answer(401, _error(401, 20003, "Authenticate"))
        if request.match_info["account"] != self.account_sid:
            return answer(404, _error(404, 20404, "The requested resource was not found"))
        rule = next((r for r in self._state.failures if r.remaining > 0), None)
        if rule is not None:
            rule.remaining -= 1
            return self._fail(rule, answer)
        fields = {name: value for name, value in reversed(form)}
        body, media = fields.get("Body", ""), [v for n, v in form if n == "MediaUrl"]
        if not fields.get("To"):
            return answer(400, _error(400, 21604, "A 'To' phone number is required."))
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return answer(400, _error(400, 21603, "A 'From' phone number is required."))
        if not body and not media:
            return answer(400, _error(400, 21602, "Message body is required."))
        if len(body) > MAX_BODY:
            return answer(400, _error(400, 21617, "The concatenated message body exceeds the 1600 character limit."))
        sid = f"SM{next(self._sids):032x}"
        sender = fields.get("From") or ""
        if fields.get("StatusCallback"):
            self._state.callbacks[sid] = (fields["StatusCallback"], fields["To"], sender)
        resource = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": fields["To"],
            "from": sender or None,
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": body,
            "status": "queued",
            "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(body) // 153))),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": formatdate(usegmt=True),
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return answer(201, resource, sid)

    def _fail(self, rule: _Rule, answer: Answer) -> web.Response:
        response: web.Response
        match rule.failure:
            case "http_429":
                headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else None
                error = _error(429, rule.code or 20429, rule.message or "Too Many Requests")
                response = answer(429, error, headers=headers)
            case "http_500":
                response = answer(500, _error(500, rule.code or 20500, rule.message or "Internal Server Error"))
            case "http_400":
                message = rule.message or "The 'To' number is not a valid phone number."
                response = answer(400, _error(400, rule.code or 21211, message))
        return response


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password
