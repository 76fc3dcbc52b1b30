"""Widget websocket frames: JSON objects tagged by "type"."""

from __future__ import annotations

from typing import Final

import msgspec

from runtime.events import Button

# Frames above this are refused with a too_large error; the socket stays open.
MAX_FRAME_BYTES: Final = 16 * 1024
MAX_TEXT_CHARS: Final = 4096


class ClientFrame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of frames the widget sends."""


class Hello(ClientFrame, frozen=True, tag="hello"):
    session: str | None = None
    last_seq: int | None = None


class Message(ClientFrame, frozen=True, tag="message"):
    text: str
    client_id: str


class Postback(ClientFrame, frozen=True, tag="postback"):
    payload: str
    client_id: str | None = None
    title: str | None = None


AnyClientFrame = Hello | Message | Postback
CLIENT_TYPES: Final = frozenset({"hello", "message", "postback"})
CLIENT_DECODER: Final = msgspec.json.Decoder(AnyClientFrame)


class ServerFrame(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True):
    """Base of frames the server sends."""


class Welcome(ServerFrame, frozen=True, tag="welcome"):
    session: str


class Ack(ServerFrame, frozen=True, tag="ack"):
    client_id: str
    duplicate: bool = False


class MessageOut(ServerFrame, frozen=True, tag="message"):
    seq: int
    text: str
    buttons: tuple[Button, ...] = ()


class Delta(ServerFrame, frozen=True, tag="delta"):
    text: str


class Typing(ServerFrame, frozen=True, tag="typing"):
    pass


class Error(ServerFrame, frozen=True, tag="error"):
    code: str
    message: str


SERVER_ENCODER: Final = msgspec.json.Encoder()
