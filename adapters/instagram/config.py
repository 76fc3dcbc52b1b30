"""An Instagram Direct channel's settings, as resolved from the bot file."""

from __future__ import annotations

import msgspec

from adapters.meta.graph import DEFAULT_API_BASE


class InstagramConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One Instagram professional account on the Messenger Platform for Instagram."""

    slug: str
    access_token: str
    app_secret: str
    verify_token: str
    # The account sends through POST {api_base}/{ig_user_id}/messages. With Instagram Login
    # tokens set api_base to https://graph.instagram.com/<version>.
    ig_user_id: str
    api_base: str = DEFAULT_API_BASE

    def __repr__(self) -> str:
        # Configs end up in tracebacks and debug logs; the secrets must not.
        return f"InstagramConfig(slug={self.slug!r}, ig_user_id={self.ig_user_id!r}, api_base={self.api_base!r})"
