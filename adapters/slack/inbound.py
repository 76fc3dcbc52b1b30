"""Slack requests as ParsedMessages: Events API callbacks and block_actions clicks. Pure.

Dedupe keys: a user's message is keyed "{channel}:{ts}", the message's own identity, not the
event_id. A bot subscribed to both message.* and app_mention receives one message as two events
with two event_ids; keyed by the message, the inbox keeps one. Retries (X-Slack-Retry-Num)
re-deliver the same message and dedupe the same way. Edits are keyed by their event_id, clicks
by their trigger_id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Final, TypeVar
from urllib.parse import parse_qsl

import msgspec

from adapters.base import HttpReply, Parsed, ParsedMessage, RawRequest
from adapters.errors import PayloadInvalid
from adapters.slack.payloads import (
    ENVELOPE,
    EVENT_TYPE,
    INTERACTION,
    MESSAGE_EVENT,
    Action,
    Envelope,
    File,
    Interaction,
    MessageEvent,
)
from adapters.slack.render import address
from runtime.events import Media

# Message subtypes that are a person writing; every other subtype (joins, topic changes,
# deletions, bot_message, ...) is noise for a bot.
_USER_SUBTYPES: Final = frozenset({"file_share", "thread_broadcast", "me_message"})
_HANDLED_SUBTYPES: Final = _USER_SUBTYPES | {"message_changed"}
# message.im / message.channels / message.groups / message.mpim; app_home and the rest are not
# conversations with the bot.
_CHANNEL_TYPES: Final = frozenset({"im", "channel", "group", "mpim"})
_TOKEN: Final = re.compile(r"<([^<>]*)>")
_FORM: Final = "application/x-www-form-urlencoded"

T = TypeVar("T")


def _decode(decoder: msgspec.json.Decoder[T], data: bytes | str, what: str) -> T:
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PayloadInvalid(f"malformed Slack {what}: {exc}") from exc


def _ts(value: str | None) -> float:
    # Slack's ts strings are epoch seconds ("1700000000.000100"), unique per channel.
    if value is None:
        return time.time()
    try:
        return float(value)
    except ValueError as exc:
        raise PayloadInvalid(f"malformed Slack ts {value!r}") from exc


def unescape(text: str) -> str:
    """Undoes the three entities Slack escapes in message text (&amp; last)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_token(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@", "#")):
        return target[0] + (label.lstrip("@#") or target[1:])
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    # Links: the label is what the user typed (Slack auto-links "example.com").
    return label or target.removeprefix("mailto:")


def to_plain(text: str, bot_users: Iterable[str] = ()) -> str:
    """Slack mrkdwn as the text the user typed: a leading mention of the bot is dropped."""
    stripped = text.lstrip()
    for user in bot_users:
        mention = f"<@{user}>"
        if stripped.startswith(mention):
            stripped = stripped[len(mention) :].lstrip()
            break
    return unescape(_TOKEN.sub(_plain_token, stripped))


def _media_kind(mimetype: str | None) -> str:
    major = (mimetype or "").partition("/")[0]
    return major if major in ("image", "audio", "video") else "document"


def _media(file: File, caption: str | None) -> Media:
    return Media(
        kind=_media_kind(file.mimetype),
        # Recorded; only audio is fetched (to transcribe), by SlackAdapter.fetch_url, because
        # downloading needs "Authorization: Bearer <bot token>" (files:read scope).
        url=file.url_private_download or file.url_private,
        provider_id=file.id,
        mime_type=file.mimetype,
        caption=caption or None,
    )


def _thread(thread_ts: str | None, ts: str | None) -> str | None:
    # A thread's parent has thread_ts == ts; it belongs to the channel, not to its thread.
    return thread_ts if thread_ts and thread_ts != ts else None


def _user_message(event: MessageEvent, bot_users: frozenset[str]) -> tuple[ParsedMessage, ...]:
    text = to_plain(event.text or "", bot_users)
    sender = address(event.channel, _thread(event.thread_ts, event.ts))
    key = f"{event.channel}:{event.ts}"
    ts = _ts(event.ts)
    profile = event.user_profile
    name = (profile.display_name or profile.real_name or None) if profile else None
    if not event.files:
        if not text:
            return ()
        return (ParsedMessage(external_id=key, sender=sender, kind="text", ts=ts, text=text, sender_name=name),)
    # One message per file; the text rides on the first as its caption.
    return tuple(
        ParsedMessage(
            external_id=key if index == 0 else f"{key}:{index}",
            sender=sender,
            kind="media",
            ts=ts,
            text=(text or None) if index == 0 else None,
            media=_media(file, text if index == 0 else None),
            sender_name=name,
        )
        for index, file in enumerate(event.files)
    )


def _edit(event: MessageEvent, event_id: str, bot_users: frozenset[str]) -> tuple[ParsedMessage, ...]:
    new, old = event.message, event.previous_message
    if new is None or new.user is None or new.bot_id or new.user in bot_users or new.subtype == "bot_message":
        return ()
    # Link unfurls and attachment changes also arrive as message_changed, with the same text.
    if old is not None and old.text == new.text:
        return ()
    return (
        ParsedMessage(
            external_id=event_id,
            sender=address(event.channel, _thread(new.thread_ts, new.ts)),
            kind="edit",
            ts=_ts(event.event_ts or event.ts),
            text=to_plain(new.text or "", bot_users),
            ref_id=old.ts if old is not None else new.ts,
        ),
    )


def _event(envelope: Envelope, bot_users: frozenset[str]) -> tuple[ParsedMessage, ...]:
    if not len(envelope.event) or not envelope.event_id:
        raise PayloadInvalid("event_callback without event or event_id")
    head = _decode(EVENT_TYPE, envelope.event, "event")
    if head.type not in ("message", "app_mention"):
        return ()
    if head.subtype is not None and head.subtype not in _HANDLED_SUBTYPES:
        return ()
    event = _decode(MESSAGE_EVENT, envelope.event, f"{head.type} event")
    if event.type == "message" and event.channel_type is not None and event.channel_type not in _CHANNEL_TYPES:
        return ()
    if event.subtype == "message_changed":
        return _edit(event, envelope.event_id, bot_users)
    # The bot's own posts come back as message events with a bot_id and usually no subtype;
    # other bots are ignored too, so two bots never talk to each other forever.
    if event.user is None or event.bot_id or event.user in bot_users:
        return ()
    return _user_message(event, bot_users)


def _json(body: bytes, bot_user_id: str | None) -> Parsed:
    envelope = _decode(ENVELOPE, body, "event envelope")
    match envelope.type:
        case "url_verification":
            if not envelope.challenge:
                raise PayloadInvalid("url_verification without a challenge")
            reply = HttpReply(status=200, body=envelope.challenge.encode(), content_type="text/plain")
            return Parsed(reply=reply)
        case "event_callback":
            # With a bot token, authorizations[] names the bot user even when it is not configured.
            bot_users = frozenset(
                filter(None, [bot_user_id, *(a.user_id for a in envelope.authorizations if a.is_bot)])
            )
            return Parsed(messages=_event(envelope, bot_users))
        case _:
            # app_rate_limited and future envelope types: nothing a user did.
            return Parsed()


def _choice(action: Action) -> tuple[str, str | None] | None:
    if action.selected_option is not None:
        option = action.selected_option
        return option.value, option.text.text if option.text else None
    if action.value is not None:
        return action.value, action.text.text if action.text else None
    return None  # a link button: nothing comes back to the bot


def _clicks(interaction: Interaction) -> tuple[ParsedMessage, ...]:
    container, message = interaction.container, interaction.message
    channel = interaction.channel.id if interaction.channel else (container.channel_id if container else None)
    if channel is None:
        return ()  # buttons in a modal or the app home: no conversation to answer in
    message_ts = message.ts if message else (container.message_ts if container else None)
    thread_ts = (message.thread_ts if message else None) or (container.thread_ts if container else None)
    sender = address(channel, _thread(thread_ts, message_ts))
    parsed: list[ParsedMessage] = []
    for index, action in enumerate(interaction.actions):
        choice = _choice(action)
        if choice is None:
            continue
        base = interaction.trigger_id or f"{channel}:{action.action_ts}:{action.action_id}"
        parsed.append(
            ParsedMessage(
                external_id=base if index == 0 else f"{base}:{index}",
                sender=sender,
                kind="postback",
                ts=_ts(action.action_ts),
                payload=choice[0],
                title=choice[1],
            )
        )
    return tuple(parsed)


def _form(body: bytes) -> Parsed:
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadInvalid(f"malformed Slack form body: {exc}") from exc
    payload = fields.get("payload")
    if payload is None:
        if "command" in fields:
            return Parsed()  # slash commands are not a botrt feature (yet)
        raise PayloadInvalid("Slack form body without payload")
    interaction = _decode(INTERACTION, payload, "interaction payload")
    if interaction.type != "block_actions":
        return Parsed()  # view submissions, shortcuts: not conversations
    return Parsed(messages=_clicks(interaction))


def parse_request(request: RawRequest, *, bot_user_id: str | None = None) -> Parsed:
    """Events (JSON) and interactivity (form) share the route; the content type tells them apart."""
    content_type = (request.header("content-type") or "").partition(";")[0].strip().lower()
    if content_type == _FORM or (not content_type and request.body.startswith(b"payload=")):
        return _form(request.body)
    return _json(request.body, bot_user_id)
