"""Slack's inbound objects as msgspec Structs: the subset the adapter reads.

Only the fields used are declared and nearly all are optional: msgspec ignores the rest, so a
new Slack field never breaks parsing, and a missing optional one never rejects a real event.
Event bodies stay Raw in the envelope because their shape depends on their type (some events
carry `channel` as an object), and are decoded only for the types handled here.
"""

from __future__ import annotations

from typing import Final

import msgspec

# ---- Events API (application/json) ----------------------------------------------------------


class Authorization(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who the event was delivered for; with a bot token, user_id is the bot's user."""

    user_id: str | None = None
    is_bot: bool = False


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """The outer callback: url_verification, event_callback or app_rate_limited."""

    type: str
    challenge: str | None = None
    team_id: str | None = None
    event_id: str | None = None
    event_time: float | None = None
    # Empty when absent (msgspec.Raw cannot be Optional).
    event: msgspec.Raw = msgspec.Raw()
    authorizations: list[Authorization] = []


class EventType(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Just enough of an event to decide whether to decode it further."""

    type: str
    subtype: str | None = None


class File(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A file shared on a message; downloading url_private needs the bot token."""

    id: str
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    url_private: str | None = None
    url_private_download: str | None = None
    permalink: str | None = None


class UserProfile(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Sometimes attached to user messages."""

    display_name: str | None = None
    real_name: str | None = None


class InnerMessage(msgspec.Struct, frozen=True, kw_only=True):
    """The message inside message_changed (message and previous_message)."""

    ts: str
    text: str | None = None
    user: str | None = None
    bot_id: str | None = None
    subtype: str | None = None
    thread_ts: str | None = None


class MessageEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A `message` or `app_mention` event."""

    type: str
    channel: str
    ts: str
    subtype: str | None = None
    channel_type: str | None = None
    user: str | None = None
    bot_id: str | None = None
    text: str | None = None
    thread_ts: str | None = None
    event_ts: str | None = None
    files: list[File] = []
    user_profile: UserProfile | None = None
    # message_changed only.
    message: InnerMessage | None = None
    previous_message: InnerMessage | None = None


# ---- Interactivity (form field `payload`) ---------------------------------------------------


class PlainText(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A text object (plain_text or mrkdwn)."""

    text: str = ""


class Option(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A select menu's chosen option."""

    value: str
    text: PlainText | None = None


class Action(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One element the user acted on."""

    type: str
    action_id: str | None = None
    value: str | None = None
    text: PlainText | None = None
    action_ts: str | None = None
    selected_option: Option | None = None


class Ref(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An object reference with an id (channel, user)."""

    id: str


class Container(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where the acted-on element lives."""

    type: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None


class ActedMessage(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The message that carried the buttons."""

    ts: str | None = None
    thread_ts: str | None = None


class Interaction(msgspec.Struct, frozen=True, kw_only=True):
    """An interactivity payload; only block_actions is handled."""

    type: str
    trigger_id: str | None = None
    user: Ref | None = None
    channel: Ref | None = None
    container: Container | None = None
    message: ActedMessage | None = None
    actions: list[Action] = []


ENVELOPE: Final = msgspec.json.Decoder(Envelope)
EVENT_TYPE: Final = msgspec.json.Decoder(EventType)
MESSAGE_EVENT: Final = msgspec.json.Decoder(MessageEvent)
INTERACTION: Final = msgspec.json.Decoder(Interaction)
