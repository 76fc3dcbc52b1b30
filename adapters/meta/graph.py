"""The Graph API client both Meta adapters send through; every failure becomes a typed adapter error."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Final, final

import aiohttp
import msgspec
from yarl import URL

from adapters.download import read_capped
from adapters.errors import AdapterError, ProviderUnavailable, RateLimited
from adapters.meta.errors import GraphRefused, MediaTooLarge, OutsideServiceWindow
from adapters.platform_http import PlatformHttp, TransportError, post_call

# One Graph version for both products. Meta keeps a version callable for at least two years
# after the next one ships; bump it here, and api_base in a bot file overrides the whole base.
GRAPH_VERSION: Final = "v23.0"
DEFAULT_API_BASE: Final = f"https://graph.facebook.com/{GRAPH_VERSION}"

# A send is one small JSON round trip; past this the outbox's retry is the better bet.
REQUEST_TIMEOUT: Final = 20.0
# Media downloads may be up to 100 MB (WhatsApp documents), so they get longer.
DOWNLOAD_TIMEOUT: Final = 120.0
# A Graph JSON answer is a few hundred bytes; anything this large is not one.
MAX_JSON_BYTES: Final = 1 << 20
# The largest WhatsApp media (documents) is 100 MB.
MAX_MEDIA_BYTES: Final = 100 * 1024 * 1024

# Graph error codes that mean "slow down" (Graph API error-handling reference, WhatsApp
# Cloud API error codes, Messenger Platform rate limiting), with how long to wait when
# neither Retry-After nor X-Business-Use-Case-Usage says.
RATE_LIMIT_WAIT: Final[Mapping[int, float]] = {
    4: 60.0,  # app-level call limit: a rolling one-hour window, so a minute is a modest step
    17: 60.0,  # user-level call limit, same rolling window
    32: 60.0,  # page-level call limit, same rolling window
    613: 60.0,  # "calls to this api have exceeded the rate limit" (Messenger / Instagram)
    80002: 60.0,  # Instagram business-use-case limit, hourly window
    80006: 60.0,  # Messenger business-use-case limit, hourly window
    80007: 60.0,  # WhatsApp Business Account limit, hourly window
    130429: 1.0,  # throughput (80 msg/s per number): the next second has budget again
    131048: 60.0,  # spam rate limit: Meta restricts the number for a while; retrying soon only hurts
    131056: 6.0,  # pair rate limit is 1 message per 6 s to one user: one period frees the next slot
}
DEFAULT_RATE_LIMIT_WAIT: Final = 60.0

# Codes Meta documents as temporary ("retry"), whatever HTTP status carries them.
TRANSIENT_CODES: Final = frozenset({1, 2, 131000, 131016, 133004})

WHATSAPP_OUTSIDE_WINDOW: Final = 131047
INSTAGRAM_OUTSIDE_WINDOW: Final = (10, 2018278)
_MAX_DETAIL: Final = 300


class GraphErrorBody(msgspec.Struct, kw_only=True):
    """The `error` object of a Graph API failure."""

    message: str = ""
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    fbtrace_id: str | None = None
    is_transient: bool = False


class _GraphErrorEnvelope(msgspec.Struct):
    error: GraphErrorBody


class _UseCaseUsage(msgspec.Struct):
    estimated_time_to_regain_access: float = 0.0


_ERROR_DECODER: Final = msgspec.json.Decoder(_GraphErrorEnvelope, strict=False)
_USAGE_DECODER: Final = msgspec.json.Decoder(dict[str, list[_UseCaseUsage]], strict=False)
_ENCODER: Final = msgspec.json.Encoder()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _use_case_wait(value: str | None) -> float | None:
    """Seconds until access returns, from X-Business-Use-Case-Usage (which counts in minutes)."""
    if not value:
        return None
    try:
        usage = _USAGE_DECODER.decode(value)
    except msgspec.DecodeError:
        return None
    minutes = max((u.estimated_time_to_regain_access for uses in usage.values() for u in uses), default=0.0)
    return minutes * 60.0 if minutes > 0 else None


def graph_error(status: int, headers: Mapping[str, str], body: bytes, *, now: float) -> AdapterError:
    """Maps a non-2xx Graph answer to RateLimited, ProviderUnavailable or a GraphRefused."""
    try:
        err: GraphErrorBody | None = _ERROR_DECODER.decode(body).error
    except msgspec.DecodeError:
        err = None
    code = err.code if err else None
    subcode = err.error_subcode if err else None
    # Graph messages never echo the token; they are trimmed so a proxy's HTML page stays short.
    message = (err.message if err else body[:_MAX_DETAIL].decode("utf-8", "replace")).strip()[:_MAX_DETAIL]
    detail = f"graph error {code}/{subcode}: {message}" if err else f"HTTP {status}: {message}"
    if err and err.fbtrace_id:
        detail += f" (fbtrace_id {err.fbtrace_id})"
    if status == 429 or code in RATE_LIMIT_WAIT:
        # A header that says "0" means now, so absence is tested with None, not falsiness.
        named = {name.lower(): value for name, value in headers.items()}  # any case, any mapping
        wait = parse_retry_after(named.get("retry-after"), now)
        if wait is None:
            wait = _use_case_wait(named.get("x-business-use-case-usage"))
        if wait is None:
            wait = RATE_LIMIT_WAIT.get(code or 0, DEFAULT_RATE_LIMIT_WAIT)
        return RateLimited(wait, detail)
    if status >= 500 or code in TRANSIENT_CODES or (err is not None and err.is_transient):
        return ProviderUnavailable(detail)
    trace = err.fbtrace_id if err else None
    if code == WHATSAPP_OUTSIDE_WINDOW or (code, subcode) == INSTAGRAM_OUTSIDE_WINDOW:
        return OutsideServiceWindow(status, detail, code=code, subcode=subcode, fbtrace_id=trace)
    return GraphRefused(status, detail, code=code, subcode=subcode, fbtrace_id=trace)


@final
class GraphClient:
    """Authorised calls to one Graph API base with one access token."""

    __slots__ = ("_api", "_auth", "_base", "_http", "_timeout")

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        api_base: str,
        access_token: str,
        timeout: float = REQUEST_TIMEOUT,
        api: PlatformHttp | None = None,
    ) -> None:
        self._http = http  # GETs and media downloads; POSTs too when no lean client is given
        self._api = api
        self._base = api_base.rstrip("/")
        self._timeout = timeout
        # The token lives only in this header; no message, log line or repr carries it.
        self._auth = {"Authorization": f"Bearer {access_token}"}

    def __repr__(self) -> str:
        return f"GraphClient(api_base={self._base!r})"

    @property
    def api_base(self) -> str:
        return self._base

    async def post(self, path: str, body: Mapping[str, object]) -> bytes:
        """POSTs JSON to api_base + path and returns the 2xx body."""
        headers = {**self._auth, "Content-Type": "application/json"}
        url = URL(self._base + path)
        try:
            answer = await post_call(
                self._api, self._http, url, _ENCODER.encode(body), headers=headers, within_s=self._timeout
            )
        except (TransportError, TimeoutError) as exc:
            raise ProviderUnavailable(f"graph POST failed: {type(exc).__name__}") from None
        if 200 <= answer.status < 300:
            return answer.body
        raise graph_error(answer.status, answer.headers, answer.body, now=time.time())

    async def get(self, path: str) -> bytes:
        """GETs api_base + path and returns the 2xx body."""
        return await self._call("GET", self._base + path, self._auth, None)

    async def download(self, url: str, *, max_bytes: int = MAX_MEDIA_BYTES) -> bytes:
        """GETs an absolute media URL that Graph handed out; it needs the same bearer token."""
        return await self._call("GET", url, self._auth, None, media_limit=max_bytes)

    async def _call(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        *,
        media_limit: int | None = None,
    ) -> bytes:
        limit = MAX_JSON_BYTES if media_limit is None else media_limit
        timeout = self._timeout if media_limit is None else max(self._timeout, DOWNLOAD_TIMEOUT)
        try:
            async with self._http.request(
                method, url, headers=headers, data=data, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                body = await read_capped(response, limit)
                if 200 <= response.status < 300:
                    if body is None and media_limit is not None:
                        raise MediaTooLarge(media_limit)
                    if body is None:
                        raise ProviderUnavailable(f"graph {method}: answer over {limit} bytes")
                    return body
                raise graph_error(response.status, response.headers, body or b"", now=time.time())
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Only the exception's type: a media URL's query is a capability and stays out of logs.
            raise ProviderUnavailable(f"graph {method} failed: {type(exc).__name__}") from None
