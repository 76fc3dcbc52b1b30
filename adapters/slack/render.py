"""Outbound messages as chat.postMessage bodies: escaping, splitting, Block Kit buttons. Pure.

A recipient is a Slack channel id, optionally followed by ":" and a thread's ts
("C0123ABC" or "C0123ABC:1700000000.000100"): inbound messages written in a thread name their
thread so the answer lands there. Channel ids never contain ":", so the split is unambiguous.
"""

from __future__ import annotations

from typing import Final

import msgspec

from adapters.errors import PermanentSendError
from runtime.events import Button, Media, OutboundMedia, OutboundMessage, OutboundText

# chat.postMessage: "Slack will truncate messages containing more than 40,000 characters."
MAX_TEXT: Final = 40_000
# Block Kit limits (docs.slack.dev/reference/block-kit): a section's text is at most 3000
# characters, a message at most 50 blocks, an actions block at most 25 elements; a button's
# text at most 75 characters, its value at most 2000, its action_id at most 255.
MAX_SECTION_TEXT: Final = 3000
MAX_BLOCKS: Final = 50
MAX_ACTIONS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_BUTTON_VALUE: Final = 2000
# Image block: image_url at most 3000 characters, alt_text at most 2000, title at most 2000.
MAX_IMAGE_URL: Final = 3000
MAX_ALT_TEXT: Final = 2000
# Paragraphs, then lines, then words; a break earlier than this share of a chunk would leave a
# stub message, so a hard cut is better then.
_BREAKS: Final = (("\n\n", 0.5), ("\n", 0.5), (" ", 0.0))
# The longest entity escape() produces is "&amp;"; a cut must not fall inside one.
_LONGEST_ENTITY: Final = 5


class Text(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A Block Kit text object."""

    type: str
    text: str
    emoji: bool | None = None


class ButtonElement(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="button", tag_field="type"):
    """A button; its value comes back in block_actions."""

    text: Text
    value: str
    action_id: str


class SlackFile(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A file already in Slack, referenced by id."""

    id: str


class SectionBlock(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="section", tag_field="type"):
    """A block of text."""

    text: Text


class ActionsBlock(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag="actions", tag_field="type"):
    """A row of interactive elements."""

    elements: list[ButtonElement]


class ImageBlock(
    msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True, tag="image", tag_field="type"
):
    """An image by URL or Slack file."""

    alt_text: str
    image_url: str | None = None
    slack_file: SlackFile | None = None
    title: Text | None = None


Block = SectionBlock | ActionsBlock | ImageBlock


class PostMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A chat.postMessage body; `text` is the notification fallback when blocks are set."""

    channel: str
    text: str
    thread_ts: str | None = None
    blocks: list[Block] | None = None


def address(channel: str, thread_ts: str | None) -> str:
    """The recipient string for a channel and, if any, the thread to answer in."""
    return f"{channel}:{thread_ts}" if thread_ts else channel


def split_address(recipient: str) -> tuple[str, str | None]:
    """The channel id and thread ts of a recipient written by address()."""
    channel, _, thread_ts = recipient.partition(":")
    if not channel:
        raise PermanentSendError(400, f"not a Slack recipient: {recipient!r}")
    return channel, thread_ts or None


def escape(text: str) -> str:
    """Slack's three control characters as entities, so text is never read as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_cut(text: str, cut: int) -> int:
    """Moves a cut back before an entity it would split."""
    amp = text.rfind("&", max(cut - _LONGEST_ENTITY + 1, 0), cut)
    if amp != -1 and text.find(";", amp, cut) == -1:
        return amp if amp > 0 else cut
    return cut


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most limit characters, broken at paragraphs, lines or words when possible."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep, min_share in _BREAKS:
            at = rest.rfind(sep, 0, limit)
            if at > 0 and at >= limit * min_share:
                cut = at
                break
        if cut == -1:
            cut = _safe_cut(rest, limit)
        head = rest[:cut].rstrip()
        if head:
            chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest.strip():
        chunks.append(rest)
    return chunks


def _button_label(title: str) -> str:
    # The label is display only, so a long one is shortened rather than refused.
    return title if len(title) <= MAX_BUTTON_TEXT else title[: MAX_BUTTON_TEXT - 1] + "…"


def _actions(buttons: tuple[Button, ...]) -> list[ActionsBlock]:
    for button in buttons:
        # The value is what comes back when pressed: cutting it would route the click wrongly.
        if len(button.payload) > MAX_BUTTON_VALUE:
            raise PermanentSendError(400, f"button payload longer than {MAX_BUTTON_VALUE} characters")
    elements = [
        ButtonElement(
            text=Text(type="plain_text", text=_button_label(b.title), emoji=True),
            value=b.payload,
            # Unique within the message; block_actions echoes it back.
            action_id=f"botrt_{index}",
        )
        for index, b in enumerate(buttons)
    ]
    return [ActionsBlock(elements=elements[i : i + MAX_ACTIONS]) for i in range(0, len(elements), MAX_ACTIONS)]


def render_text(recipient: str, message: OutboundText) -> list[PostMessage]:
    """One or more postMessage bodies; buttons go on the last as an actions block."""
    channel, thread_ts = split_address(recipient)
    chunks = split_text(escape(message.text), MAX_TEXT)
    if not message.buttons:
        return [PostMessage(channel=channel, text=c, thread_ts=thread_ts) for c in chunks]
    last = chunks.pop() if chunks else ""
    calls = [PostMessage(channel=channel, text=c, thread_ts=thread_ts) for c in chunks]
    sections: list[Block] = [
        SectionBlock(text=Text(type="mrkdwn", text=part)) for part in split_text(last, MAX_SECTION_TEXT)
    ]
    actions = _actions(message.buttons)
    if len(sections) + len(actions) > MAX_BLOCKS:
        raise PermanentSendError(400, f"{len(message.buttons)} buttons do not fit in {MAX_BLOCKS} blocks")
    # Notifications and screen readers show `text`; with no text, name the choices instead.
    fallback = last or escape(" | ".join(b.title for b in message.buttons))
    calls.append(PostMessage(channel=channel, text=fallback, thread_ts=thread_ts, blocks=[*sections, *actions]))
    return calls


def render_media(recipient: str, media: Media) -> PostMessage:
    """Images as an image block (by URL or Slack file id); anything else as a link."""
    channel, thread_ts = split_address(recipient)
    caption = media.caption or None
    if media.kind == "image" and (media.url or media.provider_id):
        if media.url and len(media.url) > MAX_IMAGE_URL:
            raise PermanentSendError(400, f"image URL longer than {MAX_IMAGE_URL} characters")
        block = ImageBlock(
            alt_text=(caption or "image")[:MAX_ALT_TEXT],
            image_url=media.url,
            slack_file=SlackFile(id=media.provider_id) if not media.url and media.provider_id else None,
            title=Text(type="plain_text", text=caption[:MAX_ALT_TEXT]) if caption else None,
        )
        fallback = escape(caption or media.url or "image")
        return PostMessage(channel=channel, text=fallback, thread_ts=thread_ts, blocks=[block])
    if not media.url:
        raise PermanentSendError(400, f"{media.kind} without a URL cannot be posted to Slack")
    link = f"<{escape(media.url)}|{escape(caption)}>" if caption else f"<{escape(media.url)}>"
    return PostMessage(channel=channel, text=link, thread_ts=thread_ts)


def render(recipient: str, message: OutboundMessage) -> list[PostMessage]:
    """The postMessage bodies for any outbound message, in sending order."""
    match message:
        case OutboundText():
            return render_text(recipient, message)
        case OutboundMedia():
            return [render_media(recipient, message.media)]


ENCODER: Final = msgspec.json.Encoder()
