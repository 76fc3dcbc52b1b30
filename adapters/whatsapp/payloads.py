"""WhatsApp Cloud API webhook payloads and their translation into ParsedMessages.

Envelope: {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
"value": {"metadata", "contacts"?, "messages"? | "statuses"? | "errors"?}}]}]} (Meta's
messages webhook reference). Each change and each message is decoded on its own, so one item
of an unknown or changed shape is skipped instead of failing the batch that Meta would then
redeliver for days.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import msgspec

from adapters.base import InboundKind, Location, ParsedMessage
from adapters.errors import PayloadInvalid
from runtime.events import Media

OBJECT: Final = "whatsapp_business_account"
# Statuses botrt tracks; "played" (voice) and "deleted" are noise to it.
STATUSES: Final = frozenset({"sent", "delivered", "read", "failed"})


class _Entry(msgspec.Struct):
    changes: list[msgspec.Raw] = []


class _Envelope(msgspec.Struct):
    object: str
    entry: list[_Entry]


class _Change(msgspec.Struct):
    field: str = ""
    # Raw cannot sit in a union; a missing value decodes as null and is then skipped.
    value: msgspec.Raw = msgspec.Raw(b"null")


class _Metadata(msgspec.Struct):
    phone_number_id: str = ""


class _Profile(msgspec.Struct):
    name: str | None = None


class _Contact(msgspec.Struct):
    wa_id: str = ""
    profile: _Profile | None = None


class _Value(msgspec.Struct):
    metadata: _Metadata | None = None
    contacts: list[_Contact] = []
    messages: list[msgspec.Raw] = []
    statuses: list[msgspec.Raw] = []


class WaText(msgspec.Struct):
    body: str


class WaMedia(msgspec.Struct):
    """image, audio, video, document and sticker share this shape (audio adds voice)."""

    id: str
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class WaLocation(msgspec.Struct):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class WaReply(msgspec.Struct):
    id: str
    title: str | None = None


class WaInteractive(msgspec.Struct):
    type: str
    button_reply: WaReply | None = None
    list_reply: WaReply | None = None


class WaButton(msgspec.Struct):
    """A template's quick-reply button pressed: payload is what the template defined."""

    text: str = ""
    payload: str | None = None


class WaMessage(msgspec.Struct):
    sender: str = msgspec.field(name="from")
    id: str
    timestamp: float
    type: str
    text: WaText | None = None
    image: WaMedia | None = None
    audio: WaMedia | None = None
    video: WaMedia | None = None
    document: WaMedia | None = None
    sticker: WaMedia | None = None
    location: WaLocation | None = None
    interactive: WaInteractive | None = None
    button: WaButton | None = None


class WaStatus(msgspec.Struct):
    id: str
    status: str
    timestamp: float
    recipient_id: str


T = TypeVar("T")

# strict=False: Meta sends timestamps as strings of seconds ("1700000000").
_ENVELOPE: Final = msgspec.json.Decoder(_Envelope)
_CHANGE: Final = msgspec.json.Decoder(_Change)
_VALUE: Final = msgspec.json.Decoder(_Value, strict=False)
_MESSAGE: Final = msgspec.json.Decoder(WaMessage, strict=False)
_STATUS: Final = msgspec.json.Decoder(WaStatus, strict=False)


def _decode(decoder: msgspec.json.Decoder[T], raw: msgspec.Raw) -> T | None:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError:
        return None


def _media(msg: WaMessage) -> WaMedia | None:
    match msg.type:
        case "image":
            return msg.image
        case "audio":
            return msg.audio
        case "video":
            return msg.video
        case "document":
            return msg.document
        case "sticker":
            return msg.sticker
    return None


def parse_message(msg: WaMessage, sender_name: str | None) -> ParsedMessage | None:
    """One user message; None for types botrt does not handle (reaction, order, system...)."""

    def make(kind: InboundKind, **fields: Any) -> ParsedMessage:
        return ParsedMessage(
            external_id=msg.id, sender=msg.sender, kind=kind, ts=msg.timestamp, sender_name=sender_name, **fields
        )

    if (media := _media(msg)) is not None:
        return make(
            "media",
            text=media.caption,
            media=Media(kind=msg.type, provider_id=media.id, mime_type=media.mime_type, caption=media.caption),
        )
    match msg.type:
        case "text" if msg.text is not None:
            return make("text", text=msg.text.body)
        case "location" if msg.location is not None:
            loc = msg.location
            return make(
                "location",
                location=Location(latitude=loc.latitude, longitude=loc.longitude, name=loc.name, address=loc.address),
            )
        case "interactive" if msg.interactive is not None:
            reply = msg.interactive.button_reply or msg.interactive.list_reply
            if reply is None:  # nfm_reply (Flows) and other interactive answers
                return None
            return make("postback", payload=reply.id, title=reply.title)
        case "button" if msg.button is not None:
            return make("postback", payload=msg.button.payload or msg.button.text, title=msg.button.text)
    return None


def parse_status(status: WaStatus) -> ParsedMessage | None:
    """A delivery report; each (wamid, status) pair is its own delivery to dedupe."""
    if status.status not in STATUSES:
        return None
    return ParsedMessage(
        external_id=f"{status.id}:{status.status}",
        sender=status.recipient_id,
        kind="status",
        ts=status.timestamp,
        status=status.status,
        ref_id=status.id,
    )


def parse_body(body: bytes, phone_number_id: str) -> tuple[ParsedMessage, ...]:
    """Every message and status in a webhook body for this phone number, in order."""
    try:
        envelope = _ENVELOPE.decode(body)
    except msgspec.DecodeError as exc:
        raise PayloadInvalid(f"not a WhatsApp webhook body: {exc}") from None
    if envelope.object != OBJECT:
        raise PayloadInvalid(f"webhook object is {envelope.object!r}, expected {OBJECT!r}")
    parsed: list[ParsedMessage] = []
    for entry in envelope.entry:
        for raw_change in entry.changes:
            change = _decode(_CHANGE, raw_change)
            if change is None or change.field != "messages":
                continue  # template, quality and account updates are not conversations
            value = _decode(_VALUE, change.value)
            # One app's webhook carries every number of the account; answer only for ours.
            if value is None or (value.metadata is not None and value.metadata.phone_number_id != phone_number_id):
                continue
            names = {c.wa_id: c.profile.name for c in value.contacts if c.profile is not None}
            for raw in value.messages:
                msg = _decode(_MESSAGE, raw)
                if msg is not None and (item := parse_message(msg, names.get(msg.sender))) is not None:
                    parsed.append(item)
            for raw in value.statuses:
                status = _decode(_STATUS, raw)
                if status is not None and (item := parse_status(status)) is not None:
                    parsed.append(item)
    return tuple(parsed)
