"""Outbound messages as Bot API calls: long texts split, buttons as inline keyboards. Pure."""

from __future__ import annotations

import hashlib
from typing import Final

import msgspec

from adapters.telegram.payloads import (
    ChatId,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    SendAudio,
    SendCall,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendSticker,
    SendVideo,
    SendVoice,
)
from adapters.textsize import utf16_len, utf16_prefix
from runtime.events import Button, Media, OutboundMedia, OutboundMessage, OutboundText

# sendMessage: text is "1-4096 characters after entities parsing"; captions are "0-1024".
# Telegram counts in UTF-16 code units (as its entity offsets do), which is never fewer than
# code points, so measuring in UTF-16 is safe either way.
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
# InlineKeyboardButton.callback_data: "Data to be sent in a callback query to the bot when the
# button is pressed, 1-64 bytes".
MAX_CALLBACK_BYTES: Final = 64
_DIGEST_CHARS: Final = 16
# Paragraphs, then lines, then words; a break this early in a chunk would leave a stub message.
_BREAKS: Final = (("\n\n", 0.5), ("\n", 0.5), (" ", 0.0))


class ApiCall(msgspec.Struct, frozen=True, kw_only=True):
    """One Bot API request: the method name and its parameters."""

    method: str
    params: SendCall


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Splits text into chunks of at most limit UTF-16 units at paragraph, line or word breaks."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: utf16_prefix(rest, limit)]
        cut, skip = len(window), 0
        for sep, min_share in _BREAKS:
            at = window.rfind(sep)
            if at > 0 and at >= len(window) * min_share:
                cut, skip = at, len(sep)
                break
        chunks.append(rest[:cut])
        rest = rest[cut + skip :]
    chunks.append(rest)
    return chunks


def callback_data(payload: str) -> str:
    """The callback_data a button payload is sent as: itself if 1-64 bytes, else a stable digest form.

    An oversized (or empty) payload becomes its first bytes, "#" and 16 hex digits of its
    SHA-256, 64 bytes at most. The postback then carries that form, not the payload: match it
    with ``callback_data(button.payload)`` (or by the button title, which parse also returns).
    """
    raw = payload.encode()
    if 0 < len(raw) <= MAX_CALLBACK_BYTES:
        return payload
    digest = hashlib.sha256(raw).hexdigest()[:_DIGEST_CHARS]
    # Cutting bytes may split a UTF-8 sequence; "ignore" drops the partial character.
    head = raw[: MAX_CALLBACK_BYTES - _DIGEST_CHARS - 1].decode("utf-8", "ignore")
    return f"{head}#{digest}"


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard with one button per row (titles can be long), or None without buttons."""
    if not buttons:
        return None
    rows = tuple((InlineKeyboardButton(text=b.title, callback_data=callback_data(b.payload)),) for b in buttons)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def chat_id(recipient: str) -> ChatId:
    """The chat_id parameter: an integer for numeric ids (groups are negative), else @username."""
    return int(recipient) if recipient.lstrip("-").isdigit() else recipient


def render_text(recipient: str, text: str, buttons: tuple[Button, ...] = ()) -> list[ApiCall]:
    """sendMessage calls for a text; buttons go under the last part, where the user reads last."""
    target = chat_id(recipient)
    parts = split_text(text)
    markup = keyboard(buttons)
    return [
        ApiCall(
            method="sendMessage",
            params=SendMessage(chat_id=target, text=part, reply_markup=markup if i == len(parts) - 1 else None),
        )
        for i, part in enumerate(parts)
    ]


def _media_call(target: ChatId, media: Media, source: str, caption: str | None) -> ApiCall:
    """The send* call for one media kind; anything unknown goes as a document, which takes any file."""
    match media.kind:
        case "image":
            return ApiCall(method="sendPhoto", params=SendPhoto(chat_id=target, photo=source, caption=caption))
        case "video":
            return ApiCall(method="sendVideo", params=SendVideo(chat_id=target, video=source, caption=caption))
        case "sticker":
            return ApiCall(method="sendSticker", params=SendSticker(chat_id=target, sticker=source))
        case "voice":
            return ApiCall(method="sendVoice", params=SendVoice(chat_id=target, voice=source, caption=caption))
        case "audio" if (media.mime_type or "").startswith("audio/ogg"):
            # sendAudio is for MP3/M4A music; OGG/OPUS only plays as a voice note.
            return ApiCall(method="sendVoice", params=SendVoice(chat_id=target, voice=source, caption=caption))
        case "audio":
            return ApiCall(method="sendAudio", params=SendAudio(chat_id=target, audio=source, caption=caption))
        case _:
            return ApiCall(method="sendDocument", params=SendDocument(chat_id=target, document=source, caption=caption))


def render_media(recipient: str, media: Media) -> list[ApiCall]:
    """The send* call for media (file_id first: no re-upload); a caption over 1024 follows as text."""
    source = media.provider_id or media.url
    if source is None:
        raise ValueError("media has neither provider_id nor url")
    caption = media.caption or None
    if caption is not None and (media.kind == "sticker" or utf16_len(caption) > MAX_CAPTION):
        return [_media_call(chat_id(recipient), media, source, None), *render_text(recipient, caption)]
    return [_media_call(chat_id(recipient), media, source, caption)]


def render(recipient: str, message: OutboundMessage) -> list[ApiCall]:
    """The Bot API calls that deliver one outbound message, in order."""
    match message:
        case OutboundText():
            return render_text(recipient, message.text, message.buttons)
        case OutboundMedia():
            return render_media(recipient, message.media)
