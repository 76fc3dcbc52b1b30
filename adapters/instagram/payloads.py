"""Instagram messaging webhook payloads and their translation into ParsedMessages.

Envelope: {"object": "instagram", "entry": [{"id", "time", "messaging": [{"sender": {"id"},
"recipient": {"id"}, "timestamp" (ms), "message" | "postback" | "read" | "message_edit" |
"reaction": {...}}]}]} (Meta's Instagram messaging webhooks and examples). Each messaging item
is decoded on its own, so one of an unknown shape is skipped rather than failing the batch.
"""

from __future__ import annotations

from typing import Final

import msgspec

from adapters.base import ParsedMessage
from adapters.errors import PayloadInvalid
from runtime.events import Media

OBJECT: Final = "instagram"
# Instagram attachment types to botrt media kinds; share, story_mention, reels, posts and
# unsupported types carry nothing a bot can answer as media and are ignored.
ATTACHMENT_KINDS: Final = {"image": "image", "video": "video", "audio": "audio", "file": "document"}


class _Entry(msgspec.Struct):
    messaging: list[msgspec.Raw] = []


class _Envelope(msgspec.Struct):
    object: str
    entry: list[_Entry]


class IgId(msgspec.Struct):
    id: str


class IgAttachmentPayload(msgspec.Struct):
    url: str | None = None


class IgAttachment(msgspec.Struct):
    type: str
    payload: IgAttachmentPayload | None = None


class IgQuickReply(msgspec.Struct):
    payload: str


class IgMessage(msgspec.Struct):
    mid: str
    text: str | None = None
    attachments: list[IgAttachment] = []
    quick_reply: IgQuickReply | None = None
    # The account's own message, echoed back: never an inbound one.
    is_echo: bool = False
    # The user unsent the message.
    is_deleted: bool = False
    is_unsupported: bool = False


class IgPostback(msgspec.Struct):
    """An icebreaker or template button pressed."""

    payload: str
    mid: str | None = None
    title: str | None = None


class IgRead(msgspec.Struct):
    mid: str | None = None


class IgEdit(msgspec.Struct):
    mid: str
    text: str | None = None
    num_edit: int = 0


class IgEvent(msgspec.Struct):
    sender: IgId
    recipient: IgId
    timestamp: float = 0.0
    message: IgMessage | None = None
    postback: IgPostback | None = None
    read: IgRead | None = None
    message_edit: IgEdit | None = None


_ENVELOPE: Final = msgspec.json.Decoder(_Envelope)
# strict=False: num_edit appears as a string in Meta's own example.
_EVENT: Final = msgspec.json.Decoder(IgEvent, strict=False)


def _message(sender: str, msg: IgMessage, ts: float) -> list[ParsedMessage]:
    if msg.is_echo or msg.is_deleted or msg.is_unsupported:
        return []
    if msg.quick_reply is not None:
        return [
            ParsedMessage(
                external_id=msg.mid,
                sender=sender,
                kind="postback",
                ts=ts,
                payload=msg.quick_reply.payload,
                title=msg.text,
            )
        ]
    parsed: list[ParsedMessage] = []
    if msg.text:
        parsed.append(ParsedMessage(external_id=msg.mid, sender=sender, kind="text", ts=ts, text=msg.text))
    for attachment in msg.attachments:
        kind = ATTACHMENT_KINDS.get(attachment.type)
        url = attachment.payload.url if attachment.payload else None
        if kind is None or not url:
            continue
        # One mid, several attachments: later ones get their own dedupe key.
        external_id = msg.mid if not parsed else f"{msg.mid}:{len(parsed)}"
        parsed.append(
            ParsedMessage(external_id=external_id, sender=sender, kind="media", ts=ts, media=Media(kind=kind, url=url))
        )
    return parsed


def parse_event(event: IgEvent, account_id: str) -> list[ParsedMessage]:
    """One messaging item; reactions, referrals and the account's own messages are noise."""
    sender = event.sender.id
    if sender == account_id:
        return []
    ts = event.timestamp / 1000.0  # Instagram counts milliseconds
    if event.message is not None:
        return _message(sender, event.message, ts)
    if event.postback is not None:
        pb = event.postback
        # Before v11 postbacks carried no mid; sender and time then identify the press.
        external_id = pb.mid or f"postback:{sender}:{int(event.timestamp)}"
        return [
            ParsedMessage(
                external_id=external_id, sender=sender, kind="postback", ts=ts, payload=pb.payload, title=pb.title
            )
        ]
    if event.read is not None and event.read.mid:
        mid = event.read.mid
        return [
            ParsedMessage(external_id=f"{mid}:read", sender=sender, kind="status", ts=ts, status="read", ref_id=mid)
        ]
    if event.message_edit is not None:
        edit = event.message_edit
        return [
            ParsedMessage(
                external_id=f"{edit.mid}:edit:{edit.num_edit}",
                sender=sender,
                kind="edit",
                ts=ts,
                text=edit.text,
                ref_id=edit.mid,
            )
        ]
    return []


def parse_body(body: bytes, account_id: str) -> tuple[ParsedMessage, ...]:
    """Every user message, postback, read and edit in a webhook body, in order."""
    try:
        envelope = _ENVELOPE.decode(body)
    except msgspec.DecodeError as exc:
        raise PayloadInvalid(f"not an Instagram webhook body: {exc}") from None
    if envelope.object != OBJECT:
        raise PayloadInvalid(f"webhook object is {envelope.object!r}, expected {OBJECT!r}")
    parsed: list[ParsedMessage] = []
    for entry in envelope.entry:
        for raw in entry.messaging:
            try:
                event = _EVENT.decode(raw)
            except msgspec.DecodeError:
                continue
            parsed.extend(parse_event(event, account_id))
    return tuple(parsed)
