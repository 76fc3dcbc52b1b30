"""Twilio messaging webhooks as ParsedMessages: incoming messages and status callbacks. Pure.

Both arrive on the channel's one route as form posts; a status callback is the one carrying
MessageStatus. Incoming messages are keyed by MessageSid (extra media by MessageSid:index),
status callbacks by MessageSid:MessageStatus, since one message reports several statuses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Final

import msgspec

from adapters.base import Location, Parsed, ParsedMessage, RawRequest
from adapters.errors import PayloadInvalid
from adapters.sms.signature import form_params
from runtime.events import Media

# MessageStatus as botrt's vocabulary. queued/accepted/scheduled/sending are steps before the
# carrier and carry nothing a conversation needs, so they are dropped like unknown statuses.
STATUSES: Final = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}
# Statuses of an *incoming* message: such a request is the message itself, not a callback.
_INBOUND_STATUSES: Final = frozenset({"received", "receiving"})
# "NumMedia: The number of media items associated with your message" (at most 10 on MMS).
MAX_MEDIA: Final = 10
# Media URLs end in /Media/ME...; that SID is the media's id at Twilio.
_MEDIA_SID: Final = re.compile(r"/Media/(ME[0-9a-fA-F]{32})$")
_JSON_OBJECT: Final = msgspec.json.Decoder(dict[str, str | int | float | bool | None])


def _params(request: RawRequest) -> dict[str, str]:
    """The request's parameters: the query for GET, else the form (or a flat JSON object)."""
    if request.method == "GET":
        pairs: Sequence[tuple[str, str]] = request.query
    elif (request.header("content-type") or "").startswith("application/json"):
        try:
            decoded = _JSON_OBJECT.decode(request.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise PayloadInvalid(f"malformed Twilio JSON body: {exc}") from exc
        pairs = [(k, "" if v is None else str(v)) for k, v in decoded.items()]
    else:
        try:
            pairs = form_params(request.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PayloadInvalid(f"malformed Twilio form body: {exc}") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)  # Twilio never repeats a name; the first one wins
    return fields


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise PayloadInvalid(f"Twilio webhook without {name}")
    return value


def _media_kind(content_type: str | None) -> str:
    major = (content_type or "").partition("/")[0]
    return major if major in ("image", "audio", "video") else "document"


def _status(fields: dict[str, str], sid: str, raw: str) -> tuple[ParsedMessage, ...]:
    status = STATUSES.get(raw)
    if status is None:
        return ()
    return (
        ParsedMessage(
            external_id=f"{sid}:{raw}",
            # The callback is about a message the bot sent: To is the user, From is the bot.
            sender=fields.get("To") or fields.get("From") or "",
            kind="status",
            ts=time.time(),
            status=status,
            ref_id=sid,
        ),
    )


def _count(fields: dict[str, str]) -> int:
    raw = fields.get("NumMedia") or "0"
    try:
        count = int(raw)
    except ValueError as exc:
        raise PayloadInvalid(f"NumMedia is not a number: {raw!r}") from exc
    if not 0 <= count <= MAX_MEDIA:
        raise PayloadInvalid(f"NumMedia out of range: {count}")
    return count


def _location(fields: dict[str, str]) -> Location | None:
    latitude, longitude = fields.get("Latitude"), fields.get("Longitude")
    if not latitude or not longitude:
        return None
    try:
        return Location(
            latitude=float(latitude),
            longitude=float(longitude),
            name=fields.get("Label") or None,
            address=fields.get("Address") or None,
        )
    except ValueError as exc:
        raise PayloadInvalid("Latitude/Longitude are not numbers") from exc


def _message(fields: dict[str, str], sid: str) -> tuple[ParsedMessage, ...]:
    sender = _required(fields, "From")
    # Twilio sends no timestamp with an incoming message; it is posted as it arrives.
    ts = time.time()
    name = fields.get("ProfileName") or None  # WhatsApp senders only
    body = fields.get("Body", "")
    if fields.get("ButtonPayload"):
        # A quick-reply tap (WhatsApp/RCS through Twilio): ButtonText is what the user saw.
        return (
            ParsedMessage(
                external_id=sid,
                kind="postback",
                payload=fields["ButtonPayload"],
                title=fields.get("ButtonText") or body or None,
                sender=sender,
                ts=ts,
                sender_name=name,
            ),
        )
    location = _location(fields)
    if location is not None:
        return (
            ParsedMessage(external_id=sid, kind="location", location=location, sender=sender, ts=ts, sender_name=name),
        )
    media: list[ParsedMessage] = []
    for index in range(_count(fields)):
        url = _required(fields, f"MediaUrl{index}")
        content_type = fields.get(f"MediaContentType{index}") or None
        sid_match = _MEDIA_SID.search(url)
        caption = (body or None) if index == 0 else None
        item = Media(
            kind=_media_kind(content_type),
            # Fetching it may need HTTP Basic auth (AccountSid:AuthToken) if the account
            # enforces authenticated media URLs.
            url=url,
            provider_id=sid_match.group(1) if sid_match else None,
            mime_type=content_type,
            caption=caption,
        )
        key = sid if index == 0 else f"{sid}:{index}"
        media.append(
            ParsedMessage(
                external_id=key, kind="media", text=caption, media=item, sender=sender, ts=ts, sender_name=name
            )
        )
    if media:
        return tuple(media)
    if not body.strip():
        return ()  # an empty SMS carries nothing to answer
    return (ParsedMessage(external_id=sid, kind="text", text=body, sender=sender, ts=ts, sender_name=name),)


def parse_request(request: RawRequest) -> Parsed:
    """An incoming message (text, media, button tap, location) or a delivery status callback."""
    fields = _params(request)
    sid = _required(fields, "MessageSid")
    status = fields.get("MessageStatus")
    if status and status not in _INBOUND_STATUSES:
        return Parsed(messages=_status(fields, sid, status))
    return Parsed(messages=_message(fields, sid))
