"""Outbound messages as Instagram Send API request bodies (POST /{ig-user-id}/messages).

Limits are Meta's: text at most 1,000 bytes of UTF-8; at most 13 quick replies, each title 20
characters (longer ones are cut by Instagram) and payload 1,000 characters; attachments are
image, audio, video or file by URL, and carry no caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from adapters.errors import PermanentSendError
from adapters.meta.text import numbered, split_text, truncate
from runtime.events import Button, Media

TEXT_LIMIT_BYTES: Final = 1000
MAX_QUICK_REPLIES: Final = 13
QUICK_REPLY_TITLE_LIMIT: Final = 20
QUICK_REPLY_PAYLOAD_LIMIT: Final = 1000

# botrt's media kinds to Instagram attachment types; stickers go as images.
ATTACHMENT_TYPES: Final = {
    "image": "image",
    "sticker": "image",
    "audio": "audio",
    "voice": "audio",
    "video": "video",
    "document": "file",
    "file": "file",
}

Body = dict[str, Any]


def _to(recipient: str, message: Body) -> Body:
    return {"recipient": {"id": recipient}, "message": message}


def text(recipient: str, body: str, buttons: Sequence[Button] = ()) -> Body:
    """A text message, with quick replies when buttons are given."""
    message: Body = {"text": body}
    if buttons:
        message["quick_replies"] = [
            {"content_type": "text", "title": truncate(b.title, QUICK_REPLY_TITLE_LIMIT), "payload": b.payload}
            for b in buttons
        ]
    return _to(recipient, message)


def typing_on(recipient: str) -> Body:
    """The typing indicator (a sender action, not a message)."""
    return {"recipient": {"id": recipient}, "sender_action": "typing_on"}


def render_text(recipient: str, body: str, buttons: Sequence[Button]) -> list[Body]:
    """The requests for a text with optional quick replies, in sending order."""
    if not body.strip():
        raise PermanentSendError(0, "empty text: Instagram rejects an empty message")
    if len(buttons) > MAX_QUICK_REPLIES or any(not 0 < len(b.payload) <= QUICK_REPLY_PAYLOAD_LIMIT for b in buttons):
        body, buttons = numbered(body, buttons), ()  # the user answers by number instead
    chunks = split_text(body, TEXT_LIMIT_BYTES, utf8=True)
    # Quick replies ride on the last chunk, so they sit under the end of the answer.
    return [text(recipient, c, buttons if i == len(chunks) - 1 else ()) for i, c in enumerate(chunks)]


def render_media(recipient: str, media: Media) -> list[Body]:
    """The attachment, then its caption as text (Instagram attachments have none)."""
    kind = ATTACHMENT_TYPES.get(media.kind)
    if kind is None:
        raise PermanentSendError(0, f"Instagram cannot send media of kind {media.kind!r}")
    # A URL works from any channel; a provider id only if Instagram issued it (an attachment id).
    if media.url:
        payload: Body = {"url": media.url}
    elif media.provider_id:
        payload = {"attachment_id": media.provider_id}
    else:
        raise PermanentSendError(0, "media has neither a url nor a provider id")
    requests = [_to(recipient, {"attachment": {"type": kind, "payload": payload}})]
    if media.caption and media.caption.strip():
        requests += [text(recipient, c) for c in split_text(media.caption, TEXT_LIMIT_BYTES, utf8=True)]
    return requests
