"""Outbound messages as Messages.json form bodies; buttons as numbered options. Pure.

SMS has no buttons, so a message's buttons become a numbered list under its text:

    Pick one

    1. Yes
    2. No

and the user answers by typing "1" (or "Yes"). `resolve_numbered_reply` turns such an answer
back into the button's payload; the integrator keeps the buttons of the last message sent to
the conversation and calls it on the next inbound text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from adapters.errors import PermanentSendError
from adapters.textsize import utf16_len, utf16_prefix
from runtime.events import Button, Media, OutboundMedia, OutboundMessage, OutboundText

# Messages.json: "Body ... up to 1,600 characters". Measured in UTF-16 code units, which is
# never fewer than code points, so a chunk fits whichever Twilio counts.
MAX_BODY: Final = 1600
_BREAKS: Final = (("\n\n", 0.5), ("\n", 0.5), (" ", 0.0))
_OPTIONS_GAP: Final = "\n\n"
# "1", "1.", "1)", "#1", " 2 " ...
_NUMBER: Final = re.compile(r"#?\s*(\d{1,3})\s*[.)]?")

Form = list[tuple[str, str]]


def split_text(text: str, limit: int = MAX_BODY) -> list[str]:
    """Chunks of at most limit UTF-16 units, broken at paragraphs, lines or words when possible."""
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        fit = utf16_prefix(rest, limit)
        cut = fit
        for sep, min_share in _BREAKS:
            at = rest.rfind(sep, 0, fit)
            if at > 0 and at >= fit * min_share:
                cut = at
                break
        head = rest[:cut].rstrip()
        if head:
            chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest.strip():
        chunks.append(rest)
    return chunks


def numbered_options(buttons: Sequence[Button]) -> str:
    """The buttons as "1. Yes\\n2. No"."""
    return "\n".join(f"{index}. {button.title}" for index, button in enumerate(buttons, start=1))


def resolve_numbered_reply(text: str, buttons: Sequence[Button]) -> str | None:
    """The payload of the option a reply picks: by number ("2", "2.", "#2") or exact title, else None."""
    answer = text.strip()
    number = _NUMBER.fullmatch(answer)
    if number is not None:
        index = int(number.group(1))
        return buttons[index - 1].payload if 1 <= index <= len(buttons) else None
    folded = answer.casefold()
    for button in buttons:
        if button.title.strip().casefold() == folded:
            return button.payload
    return None


def text_bodies(text: str, buttons: Sequence[Button]) -> list[str]:
    """The Body of each message: text split to fit, options kept whole on the last when they fit."""
    chunks = split_text(text)
    if not buttons:
        return chunks
    options = numbered_options(buttons)
    if chunks and utf16_len(chunks[-1]) + utf16_len(_OPTIONS_GAP + options) <= MAX_BODY:
        chunks[-1] = chunks[-1] + _OPTIONS_GAP + options
        return chunks
    return chunks + split_text(options)


def _envelope(to: str, sender: str, status_callback: str | None) -> tuple[Form, Form]:
    # A Messaging Service SID (MG...) sends from the service's pool instead of one number.
    origin = ("MessagingServiceSid", sender) if sender.startswith("MG") else ("From", sender)
    tail: Form = [("StatusCallback", status_callback)] if status_callback else []
    return [("To", to), origin], tail


def _media_forms(head: Form, tail: Form, media: Media) -> list[Form]:
    if not media.url:
        # Twilio fetches media by URL; a platform file id means nothing to it.
        raise PermanentSendError(400, f"{media.kind} without a URL cannot be sent over SMS/MMS")
    captions = split_text(media.caption or "")
    first: Form = [*head, ("Body", captions[0])] if captions else list(head)
    forms = [[*first, ("MediaUrl", media.url), *tail]]
    # A caption over 1600 characters continues in plain messages after the media.
    forms.extend([*head, ("Body", body), *tail] for body in captions[1:])
    return forms


def render(to: str, message: OutboundMessage, *, sender: str, status_callback: str | None = None) -> list[Form]:
    """The Messages.json form bodies for a message, in sending order."""
    head, tail = _envelope(to, sender, status_callback)
    match message:
        case OutboundText():
            return [[*head, ("Body", body), *tail] for body in text_bodies(message.text, message.buttons)]
        case OutboundMedia():
            return _media_forms(head, tail, message.media)
