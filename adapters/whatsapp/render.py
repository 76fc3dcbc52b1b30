"""Outbound messages as WhatsApp Cloud API request bodies (POST /{phone-number-id}/messages).

Limits are Meta's (Cloud API messages reference): text body 4,096 characters; interactive
body 1,024; at most 3 reply buttons (title 20, id 256); a list holds at most 10 rows (title
24, description 72, id 200) behind a button label of 20; media captions 1,024.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any, Final
from urllib.parse import urlsplit

from adapters.errors import PermanentSendError
from adapters.meta.text import numbered, split_text, truncate
from runtime.events import Button, Media

TEXT_LIMIT: Final = 4096
INTERACTIVE_BODY_LIMIT: Final = 1024
CAPTION_LIMIT: Final = 1024
MAX_REPLY_BUTTONS: Final = 3
REPLY_TITLE_LIMIT: Final = 20
REPLY_ID_LIMIT: Final = 256
MAX_LIST_ROWS: Final = 10
ROW_TITLE_LIMIT: Final = 24
ROW_DESCRIPTION_LIMIT: Final = 72
ROW_ID_LIMIT: Final = 200
LIST_BUTTON_LIMIT: Final = 20

# botrt's media kinds to WhatsApp's message types.
MEDIA_TYPES: Final = {
    "image": "image",
    "audio": "audio",
    "voice": "audio",
    "video": "video",
    "document": "document",
    "file": "document",
    "sticker": "sticker",
}
# WhatsApp takes a caption only on these; elsewhere it follows as a text message.
CAPTIONED: Final = frozenset({"image", "video", "document"})

Body = dict[str, Any]


def _envelope(to: str, kind: str, content: Body) -> Body:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def text(to: str, body: str) -> Body:
    """A plain text message; link previews stay off so a bot's links do not fetch pages."""
    return _envelope(to, "text", {"preview_url": False, "body": body})


def reply_buttons(to: str, body: str, buttons: Sequence[Button]) -> Body:
    """Up to three reply buttons under a body."""
    action = {
        "buttons": [
            {"type": "reply", "reply": {"id": b.payload, "title": truncate(b.title, REPLY_TITLE_LIMIT)}}
            for b in buttons
        ]
    }
    return _envelope(to, "interactive", {"type": "button", "body": {"text": body}, "action": action})


def _row(button: Button) -> Body:
    row: Body = {"id": button.payload, "title": truncate(button.title, ROW_TITLE_LIMIT)}
    if len(button.title) > ROW_TITLE_LIMIT:  # the description shows what the title had to cut
        row["description"] = truncate(button.title, ROW_DESCRIPTION_LIMIT)
    return row


def option_list(to: str, body: str, buttons: Sequence[Button], label: str) -> Body:
    """A single-section list of up to ten rows, opened by a button labelled label."""
    action = {"button": truncate(label, LIST_BUTTON_LIMIT), "sections": [{"rows": [_row(b) for b in buttons]}]}
    return _envelope(to, "interactive", {"type": "list", "body": {"text": body}, "action": action})


def template(to: str, name: str, language: str) -> Body:
    """An approved template: the only thing allowed once the 24-hour window has closed."""
    return _envelope(to, "template", {"name": name, "language": {"code": language}})


def mark_read(message_id: str, *, typing: bool) -> Body:
    """Marks an inbound message read and, with typing, shows the typing indicator for ~25 s."""
    body: Body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def render_text(to: str, body: str, buttons: Sequence[Button], list_label: str) -> list[Body]:
    """The requests for a text with optional buttons, in sending order."""
    if not body.strip():
        raise PermanentSendError(0, "empty text: WhatsApp rejects an empty body")
    if not buttons:
        return [text(to, chunk) for chunk in split_text(body, TEXT_LIMIT)]
    # WhatsApp refuses empty or repeated ids, and repeated titles among reply buttons.
    unique_ids = len({b.payload for b in buttons}) == len(buttons) and all(b.payload for b in buttons)
    unique_titles = len({truncate(b.title, REPLY_TITLE_LIMIT) for b in buttons}) == len(buttons)
    longest_id = max(len(b.payload) for b in buttons)
    if len(buttons) <= MAX_REPLY_BUTTONS and unique_ids and unique_titles and longest_id <= REPLY_ID_LIMIT:
        kind = "button"
    elif len(buttons) <= MAX_LIST_ROWS and unique_ids and longest_id <= ROW_ID_LIMIT:
        kind = "list"
    else:  # more options (or longer payloads) than WhatsApp can hold: the user answers by number
        return render_text(to, numbered(body, buttons), (), list_label)
    chunks = split_text(body, TEXT_LIMIT)
    # The buttons ride on the last chunk, whose body may hold only 1,024 characters.
    chunks[-1:] = split_text(chunks[-1], INTERACTIVE_BODY_LIMIT)
    last = chunks.pop()
    head = [text(to, chunk) for chunk in chunks]
    if kind == "button":
        return [*head, reply_buttons(to, last, buttons)]
    return [*head, option_list(to, last, buttons, list_label)]


def _filename(url: str) -> str | None:
    name = PurePosixPath(urlsplit(url).path).name
    return name if "." in name else None


def render_media(to: str, media: Media) -> list[Body]:
    """The request for a piece of media, then its caption as text where WhatsApp takes none."""
    kind = MEDIA_TYPES.get(media.kind)
    if kind is None:
        raise PermanentSendError(0, f"WhatsApp cannot send media of kind {media.kind!r}")
    # A URL works from any channel; a provider id only if WhatsApp issued it.
    if media.url:
        content: Body = {"link": media.url}
        if kind == "document" and (name := _filename(media.url)):
            content["filename"] = name
    elif media.provider_id:
        content = {"id": media.provider_id}
    else:
        raise PermanentSendError(0, "media has neither a url nor a provider id")
    caption = media.caption or ""
    if caption and kind in CAPTIONED and len(caption) <= CAPTION_LIMIT:
        content["caption"] = caption
        caption = ""
    requests = [_envelope(to, kind, content)]
    if caption.strip():
        requests += [text(to, chunk) for chunk in split_text(caption, TEXT_LIMIT)]
    return requests
