"""A Twilio SMS channel's settings, checked when built."""

from __future__ import annotations

import re
from typing import Final

import msgspec

DEFAULT_API_BASE: Final = "https://api.twilio.com"
# The account SID goes into the REST path, so it must not be able to change the path.
_SID: Final = re.compile(r"[A-Za-z0-9]{1,64}")


class SmsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One Twilio sender: the account, its Auth Token and the number (or service) it sends from."""

    slug: str
    account_sid: str
    # The primary Auth Token: it authenticates REST calls and keys webhook signatures.
    auth_token: str
    # An E.164 number ("+15005550006"), a "whatsapp:+1..." sender, or a Messaging Service SID
    # ("MG..."), which is sent as MessagingServiceSid instead of From.
    from_number: str
    api_base: str = DEFAULT_API_BASE
    # Where Twilio posts delivery statuses; usually this channel's own /hooks/sms/{slug} URL.
    status_callback: str | None = None

    def __post_init__(self) -> None:
        # ValueError becomes a msgspec.ValidationError naming the channel in build_adapter.
        if not _SID.fullmatch(self.account_sid):
            raise ValueError("account_sid must be letters and digits (AC...)")
        if not self.auth_token:
            raise ValueError("auth_token must not be empty")
        if not self.from_number:
            raise ValueError("from_number must not be empty")
        if not self.api_base.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be an http(s) URL, got {self.api_base!r}")
        if self.status_callback is not None and not self.status_callback.startswith(("http://", "https://")):
            raise ValueError(f"status_callback must be an http(s) URL, got {self.status_callback!r}")

    def __repr__(self) -> str:
        # Secrets never reach a log line, even through a repr.
        return f"SmsConfig(slug={self.slug!r}, account_sid={self.account_sid!r}, from_number={self.from_number!r})"
