"""A WhatsApp Cloud API channel's settings, as resolved from the bot file."""

from __future__ import annotations

import msgspec

from adapters.meta.graph import DEFAULT_API_BASE


class WhatsAppConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One business phone number on the WhatsApp Cloud API."""

    slug: str
    access_token: str
    app_secret: str
    verify_token: str
    phone_number_id: str
    api_base: str = DEFAULT_API_BASE
    # The approved template sent when the 24-hour customer-service window has closed.
    template_name: str | None = None
    template_language: str = "en_US"
    # The label of the button that opens a list of 4 to 10 options (WhatsApp caps it at 20).
    list_button: str = "Options"

    def __repr__(self) -> str:
        # Configs end up in tracebacks and debug logs; the secrets must not.
        return (
            f"WhatsAppConfig(slug={self.slug!r}, phone_number_id={self.phone_number_id!r}, api_base={self.api_base!r})"
        )
