"""The Telegram channel: verify the webhook secret, parse Updates, call the Bot API.

The bot token sits in every Bot API URL path, so no error raised here carries a URL, an
aiohttp exception or an exception chain that could hold one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import ClassVar, Final, TypeVar, final

import aiohttp
import msgspec
import yarl

from adapters.base import HttpReply, Location, Parsed, ParsedMessage, RateLimits, RawRequest, SendResult
from adapters.errors import (
    AdapterError,
    PayloadInvalid,
    PermanentSendError,
    ProviderUnavailable,
    RateLimited,
    SignatureInvalid,
    SignatureMissing,
)
from adapters.platform_http import PlatformHttp, TransportError, post_call
from adapters.telegram import payloads as tg
from adapters.telegram.config import TelegramConfig, validate_secret_token
from adapters.telegram.render import chat_id, render
from runtime.events import Media, OutboundMessage
from runtime.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

KIND: Final = "telegram"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# What parse understands; pass to set_webhook, since omitting it keeps whatever was set before.
ALLOWED_UPDATES: Final = ("message", "edited_message", "callback_query")
DEFAULT_TIMEOUT: Final = 30.0
# Used when a 429 names no wait: one message per second per chat is the documented pace.
_DEFAULT_RETRY_AFTER: Final = 1.0
_JSON: Final = {"Content-Type": "application/json"}


def _name(user: tg.User | None) -> str | None:
    """A display name: first and last name."""
    if user is None:
        return None
    return f"{user.first_name} {user.last_name}" if user.last_name else user.first_name


def _media(message: tg.Message) -> Media | None:
    """The message's media by file_id, or None if it carries none we handle."""
    caption = message.caption
    if message.photo:
        # Telegram sends every size it made; the largest is the one worth keeping.
        largest = max(message.photo, key=lambda p: p.width * p.height)
        return Media(kind="image", provider_id=largest.file_id, caption=caption)
    # A voice note is audio to everything downstream (transcription); its mime type says OGG.
    files = (
        ("document", message.document),
        ("audio", message.audio),
        ("audio", message.voice),
        ("video", message.video),
    )
    for kind, file in files:
        if file is not None:
            return Media(kind=kind, provider_id=file.file_id, mime_type=file.mime_type, caption=caption)
    if message.sticker is not None:
        s = message.sticker
        mime = "video/webm" if s.is_video else "application/x-tgsticker" if s.is_animated else "image/webp"
        return Media(kind="sticker", provider_id=s.file_id, mime_type=mime, caption=s.emoji)
    return None


def _from_message(update_id: int, message: tg.Message) -> ParsedMessage | None:
    """A new message as text, media or location; None for anything else (service messages, polls)."""
    sender, name, ts = str(message.chat.id), _name(message.from_), float(message.date)
    external_id = str(update_id)
    if message.text is not None:
        return ParsedMessage(
            external_id=external_id, sender=sender, kind="text", ts=ts, text=message.text, sender_name=name
        )
    media = _media(message)
    if media is not None:
        return ParsedMessage(
            external_id=external_id,
            sender=sender,
            kind="media",
            ts=ts,
            text=message.caption,
            media=media,
            sender_name=name,
        )
    if message.location is not None:
        venue = message.venue
        where = Location(
            latitude=message.location.latitude,
            longitude=message.location.longitude,
            name=venue.title if venue else None,
            address=venue.address if venue else None,
        )
        return ParsedMessage(
            external_id=external_id, sender=sender, kind="location", ts=ts, location=where, sender_name=name
        )
    return None


def _from_edit(update_id: int, message: tg.Message) -> ParsedMessage | None:
    """An edited text or caption; other edits (live location moving) are noise."""
    text = message.text if message.text is not None else message.caption
    if text is None:
        return None
    return ParsedMessage(
        external_id=str(update_id),
        sender=str(message.chat.id),
        kind="edit",
        ts=float(message.edit_date or message.date),
        text=text,
        ref_id=str(message.message_id),
        sender_name=_name(message.from_),
    )


def _button_title(message: tg.Message | None, data: str) -> str | None:
    """The text of the pressed button, found in the keyboard the callback's message carried."""
    if message is None or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _from_callback(update_id: int, query: tg.CallbackQuery) -> ParsedMessage | None:
    """A button press as a postback; ref_id carries the callback query id for ack()."""
    if query.data is None:  # game buttons carry game_short_name instead
        return None
    # Buttons on inline-mode messages come without a message: answer the user directly.
    sender = str(query.message.chat.id) if query.message is not None else str(query.from_.id)
    return ParsedMessage(
        external_id=str(update_id),
        sender=sender,
        kind="postback",
        # A callback query has no date of its own; the press happened just now.
        ts=time.time(),
        payload=query.data,
        title=_button_title(query.message, query.data),
        ref_id=query.id,
        sender_name=_name(query.from_),
    )


def parse_update(update: tg.Update) -> ParsedMessage | None:
    """The one thing an Update says a user did, or None for noise (bots, channels, members, ...)."""
    if update.message is not None:
        if update.message.from_ is not None and update.message.from_.is_bot:
            return None
        return _from_message(update.update_id, update.message)
    if update.edited_message is not None:
        if update.edited_message.from_ is not None and update.edited_message.from_.is_bot:
            return None
        return _from_edit(update.update_id, update.edited_message)
    if update.callback_query is not None and not update.callback_query.from_.is_bot:
        return _from_callback(update.update_id, update.callback_query)
    return None


@final
class TelegramAdapter:
    """One Telegram bot: its webhook in, its Bot API calls out."""

    kind: ClassVar[str] = KIND
    # Bots FAQ: about 30 messages/s overall, 1/s in a chat "with short bursts" (no number given,
    # so a small one: a split long text goes out in one go); groups also cap at 20/minute.
    limits: ClassVar[RateLimits] = RateLimits(per_channel=30.0, per_recipient=1.0, burst=3)
    get_webhooks: ClassVar[bool] = False  # "an HTTPS POST request" (setWebhook)

    def __init__(
        self,
        config: TelegramConfig,
        *,
        http: aiohttp.ClientSession,
        timeout: float = DEFAULT_TIMEOUT,
        api: PlatformHttp | None = None,
    ) -> None:
        self.config = config
        self._http = http
        # Bot API calls go through the lean keep-alive client when one is given (the runtime
        # gives one: adapters.platform_http says why), else through the aiohttp session, which
        # also serves downloads.
        self._api = api
        self._timeout = timeout
        self._api_base = config.api_base.rstrip("/")
        # Method URLs parsed once: yarl parses and normalises a str URL on every request.
        self._urls: dict[str, yarl.URL] = {}

    def __repr__(self) -> str:
        return f"TelegramAdapter(slug={self.config.slug!r})"

    # ---- inbound -------------------------------------------------------------------------------

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Telegram has no GET handshake: webhooks are registered with setWebhook."""
        return None

    def verify(self, request: RawRequest, now: float) -> None:
        """Checks X-Telegram-Bot-Api-Secret-Token against the configured secret in constant time."""
        expected = self.config.secret_token
        if expected is None:
            return
        got = request.header(SECRET_HEADER)
        if got is None:
            raise SignatureMissing(f"telegram: no {SECRET_HEADER} header")
        # Bytes, because compare_digest refuses non-ASCII str; "replace" can never yield a match
        # since the expected secret is ASCII letters, digits, _ and - only.
        if not secrets.compare_digest(got.encode("utf-8", "replace"), expected.encode()):
            raise SignatureInvalid(f"telegram: {SECRET_HEADER} does not match the channel's secret")

    def parse(self, request: RawRequest) -> Parsed:
        """Decodes one Update; noise gives an empty Parsed. Raises PayloadInvalid."""
        try:
            update = tg.UPDATE_DECODER.decode(request.body)
        except msgspec.ValidationError as exc:
            raise PayloadInvalid(f"telegram: body is not a Bot API Update: {exc}") from None
        except msgspec.DecodeError as exc:
            raise PayloadInvalid(f"telegram: body is not valid JSON: {exc}") from None
        message = parse_update(update)
        return Parsed(messages=() if message is None else (message,))

    def ack(self, parsed: Parsed) -> HttpReply:
        """200; for a button press the body is an answerCallbackQuery call, which stops its spinner."""
        for message in parsed.messages:
            if message.kind == "postback" and message.ref_id:
                body = tg.ENCODER.encode(tg.AnswerCallbackQuery(callback_query_id=message.ref_id))
                return HttpReply(status=200, body=body, content_type="application/json")
        return HttpReply(status=200)

    # ---- outbound ------------------------------------------------------------------------------

    async def send(self, recipient: str, message: OutboundMessage) -> SendResult:
        """Sends as one or more Bot API calls; a long text becomes several messages."""
        try:
            calls = render(recipient, message)
        except ValueError as exc:
            raise PermanentSendError(400, f"telegram: not sendable: {exc}") from None
        ids: list[str] = []
        for call in calls:
            sent = await self._call(call.method, call.params, tg.SENT_DECODER)
            ids.append(str(sent.message_id))
        return SendResult(provider_ids=tuple(ids))

    async def typing(self, recipient: str) -> None:
        """sendChatAction typing; best effort, so failures are logged and dropped."""
        try:
            await self._call(
                "sendChatAction", tg.SendChatAction(chat_id=chat_id(recipient), action="typing"), tg.BOOL_DECODER
            )
        except AdapterError as exc:
            log.debug("telegram.typing_failed", slug=self.config.slug, error=str(exc))

    async def set_webhook(
        self, url: str, secret_token: str | None, allowed_updates: Sequence[str] | None = None
    ) -> None:
        """Registers url as the bot's webhook (setWebhook); None allowed_updates keeps the previous list."""
        if secret_token is not None:
            validate_secret_token(secret_token)
        params = tg.SetWebhook(
            url=url,
            secret_token=secret_token,
            allowed_updates=None if allowed_updates is None else tuple(allowed_updates),
        )
        await self._call("setWebhook", params, tg.BOOL_DECODER)

    async def get_file_url(self, file_id: str) -> str:
        """The download URL of a file (getFile). It contains the bot token: never log it."""
        file = await self._call("getFile", tg.GetFile(file_id=file_id), tg.FILE_DECODER)
        if file.file_path is None:
            raise PermanentSendError(400, "telegram getFile: no file_path (files over 20 MB cannot be downloaded)")
        return f"{self._api_base}/file/bot{self.config.token}/{file.file_path}"

    # ---- the wire ------------------------------------------------------------------------------

    async def _call(self, method: str, params: tg.ApiParams, decoder: msgspec.json.Decoder[tg.ApiResponse[T]]) -> T:
        """POSTs one Bot API method as JSON and returns its result, or raises a typed AdapterError."""
        failure: AdapterError | None = None
        try:
            url, body = self._url(method), tg.ENCODER.encode(params)
            answer = await post_call(self._api, self._http, url, body, headers=_JSON, within_s=self._timeout)
        except TimeoutError:
            failure = ProviderUnavailable(f"telegram {method}: no answer within {self._timeout:g} s")
        except TransportError as exc:
            failure = ProviderUnavailable(f"telegram {method}: {self._redact(exc)}")
        # Raised outside the except blocks so no exception (or URL) is chained.
        if failure is not None:
            raise failure
        status, body, retry_header = answer.status, answer.body, answer.headers.get("retry-after")
        return self._result(method, status, body, retry_header, decoder)

    def _url(self, method: str) -> yarl.URL:
        url = self._urls.get(method)
        if url is None:
            url = self._urls[method] = yarl.URL(f"{self._api_base}/bot{self.config.token}/{method}")
        return url

    def _result(
        self,
        method: str,
        status: int,
        body: bytes,
        retry_header: str | None,
        decoder: msgspec.json.Decoder[tg.ApiResponse[T]],
    ) -> T:
        """Maps an HTTP answer to the result or to RateLimited, ProviderUnavailable, PermanentSendError."""
        try:
            answer: tg.ApiResponse[T] | None = decoder.decode(body)
        except msgspec.MsgspecError:
            answer = None  # a proxy's HTML page, a truncated body: judged by the status alone
        code = answer.error_code if answer is not None and answer.error_code else status
        detail = f"telegram {method}: {(answer.description if answer else None) or f'HTTP {status}'}"
        if status == 429 or code == 429:
            raise RateLimited(self._retry_after(answer, retry_header), detail)
        if status >= 500 or code >= 500:
            raise ProviderUnavailable(detail)
        if answer is None:
            if 200 <= status < 300:
                raise ProviderUnavailable(f"telegram {method}: unreadable answer (HTTP {status})")
            raise PermanentSendError(status, detail)
        if not answer.ok or status >= 300:
            if answer.parameters is not None and answer.parameters.migrate_to_chat_id is not None:
                detail += f" (migrate_to_chat_id={answer.parameters.migrate_to_chat_id})"
            raise PermanentSendError(code, detail)
        if answer.result is None:
            raise ProviderUnavailable(f"telegram {method}: ok without a result")
        return answer.result

    @staticmethod
    def _retry_after(answer: tg.ApiResponse[T] | None, header: str | None) -> float:
        """parameters.retry_after, else the Retry-After header, else one second."""
        if answer is not None and answer.parameters is not None and answer.parameters.retry_after is not None:
            return float(answer.parameters.retry_after)
        try:
            return float(header) if header is not None else _DEFAULT_RETRY_AFTER
        except ValueError:
            return _DEFAULT_RETRY_AFTER

    def _redact(self, exc: BaseException) -> str:
        """The exception's class and message with the token cut out (some aiohttp errors quote the URL)."""
        return f"{type(exc).__name__}: {str(exc).replace(self.config.token, '***')}".rstrip(": ")
