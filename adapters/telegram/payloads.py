"""Bot API objects as msgspec Structs: the Update subset we read and the calls we make.

Only the fields the adapter uses are declared; msgspec ignores the rest, so new Bot API fields
never break parsing. Fields the Bot API marks required are required here too.
"""

from __future__ import annotations

from typing import Final, Generic, TypeVar

import msgspec

T = TypeVar("T")

# ---- inbound: the Update and what it carries --------------------------------------------------


class User(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A Telegram user or bot."""

    id: int
    is_bot: bool
    first_name: str
    last_name: str | None = None
    username: str | None = None


class Chat(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where a message was sent: private, group, supergroup or channel."""

    id: int
    type: str


class PhotoSize(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One size of a photo; a photo message carries several."""

    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None


class Document(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A general file."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None


class Audio(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A music file."""

    file_id: str
    file_unique_id: str
    duration: int
    mime_type: str | None = None


class Voice(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A voice note."""

    file_id: str
    file_unique_id: str
    duration: int
    mime_type: str | None = None


class Video(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A video file."""

    file_id: str
    file_unique_id: str
    width: int
    height: int
    duration: int
    mime_type: str | None = None


class Sticker(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A sticker: static WEBP, animated TGS or video WEBM."""

    file_id: str
    file_unique_id: str
    type: str
    width: int
    height: int
    is_animated: bool
    is_video: bool
    emoji: str | None = None


class Location(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A point on the map."""

    latitude: float
    longitude: float


class Venue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A named place; sent alongside its location."""

    location: Location
    title: str
    address: str


class InlineKeyboardButton(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """One button of an inline keyboard (read back from callbacks, written when sending)."""

    text: str
    callback_data: str | None = None
    url: str | None = None


class InlineKeyboardMarkup(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Rows of inline buttons under a message."""

    inline_keyboard: tuple[tuple[InlineKeyboardButton, ...], ...]


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A message; exactly one of the content fields is usually set."""

    message_id: int
    date: int
    chat: Chat
    from_: User | None = msgspec.field(default=None, name="from")
    edit_date: int | None = None
    text: str | None = None
    caption: str | None = None
    photo: tuple[PhotoSize, ...] | None = None
    document: Document | None = None
    audio: Audio | None = None
    voice: Voice | None = None
    video: Video | None = None
    sticker: Sticker | None = None
    location: Location | None = None
    venue: Venue | None = None
    reply_markup: InlineKeyboardMarkup | None = None


class CallbackQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A press of an inline button."""

    id: str
    from_: User = msgspec.field(name="from")
    chat_instance: str
    # Absent for buttons on inline-mode messages; an InaccessibleMessage (date 0) when too old.
    message: Message | None = None
    data: str | None = None


class Update(msgspec.Struct, frozen=True, kw_only=True):
    """One webhook delivery; at most one of the optional fields is set."""

    update_id: int
    message: Message | None = None
    edited_message: Message | None = None
    callback_query: CallbackQuery | None = None


UPDATE_DECODER: Final = msgspec.json.Decoder(Update)

# ---- outbound: Bot API method parameters ------------------------------------------------------

ChatId = int | str


class SendMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendMessage: plain text (no parse_mode, so nothing needs escaping)."""

    chat_id: ChatId
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


class SendPhoto(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendPhoto with a URL or file_id."""

    chat_id: ChatId
    photo: str
    caption: str | None = None


class SendDocument(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendDocument with a URL or file_id."""

    chat_id: ChatId
    document: str
    caption: str | None = None


class SendAudio(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendAudio (MP3/M4A music) with a URL or file_id."""

    chat_id: ChatId
    audio: str
    caption: str | None = None


class SendVoice(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendVoice (OGG/OPUS voice note) with a URL or file_id."""

    chat_id: ChatId
    voice: str
    caption: str | None = None


class SendVideo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendVideo with a URL or file_id."""

    chat_id: ChatId
    video: str
    caption: str | None = None


class SendSticker(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """sendSticker with a URL or file_id; stickers take no caption."""

    chat_id: ChatId
    sticker: str


class SendChatAction(msgspec.Struct, frozen=True, kw_only=True):
    """sendChatAction: 'typing' and friends, shown for 5 s or until a message arrives."""

    chat_id: ChatId
    action: str


class SetWebhook(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """setWebhook with the secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token."""

    url: str
    secret_token: str | None = None
    allowed_updates: tuple[str, ...] | None = None


class GetFile(msgspec.Struct, frozen=True, kw_only=True):
    """getFile: resolves a file_id to a download path valid for at least an hour."""

    file_id: str


class AnswerCallbackQuery(msgspec.Struct, frozen=True, kw_only=True):
    """answerCallbackQuery as a webhook reply: stops the button's progress spinner, no extra request."""

    callback_query_id: str
    method: str = "answerCallbackQuery"


SendCall = SendMessage | SendPhoto | SendDocument | SendAudio | SendVoice | SendVideo | SendSticker
ApiParams = SendCall | SendChatAction | SetWebhook | GetFile

# ---- responses --------------------------------------------------------------------------------


class ResponseParameters(msgspec.Struct, frozen=True, kw_only=True):
    """Why a call failed, when Telegram can say: flood wait or a migrated group."""

    retry_after: float | None = None
    migrate_to_chat_id: int | None = None


class ApiResponse(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """The envelope of every Bot API answer."""

    ok: bool
    result: T | None = None
    error_code: int | None = None
    description: str | None = None
    parameters: ResponseParameters | None = None


class SentMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The part of a sent Message we keep: its id."""

    message_id: int


class File(msgspec.Struct, frozen=True, kw_only=True):
    """getFile's answer; file_path is absent when the file cannot be downloaded (over 20 MB)."""

    file_id: str
    file_unique_id: str
    file_size: int | None = None
    file_path: str | None = None


ENCODER: Final = msgspec.json.Encoder()
SENT_DECODER: Final = msgspec.json.Decoder(ApiResponse[SentMessage])
BOOL_DECODER: Final = msgspec.json.Decoder(ApiResponse[bool])
FILE_DECODER: Final = msgspec.json.Decoder(ApiResponse[File])
