"""A Slack channel's settings, checked when built."""

from __future__ import annotations

from typing import Final

import msgspec

DEFAULT_API_BASE: Final = "https://slack.com/api"


class SlackConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One Slack app install: its bot token, signing secret and where the Web API lives."""

    slug: str
    bot_token: str
    signing_secret: str
    api_base: str = DEFAULT_API_BASE
    # auth.test's user_id and bot_id. Both optional: envelopes name the bot user in
    # authorizations[], and every message carrying a bot_id (this bot's or another's) is
    # ignored, so bot_id only documents the install; bot_user_id also catches the bot's
    # posts that lack a bot_id.
    bot_user_id: str | None = None
    bot_id: str | None = None

    def __post_init__(self) -> None:
        # ValueError becomes a msgspec.ValidationError naming the channel in build_adapter.
        if not self.bot_token:
            raise ValueError("bot_token must not be empty")
        if not self.signing_secret:
            raise ValueError("signing_secret must not be empty")
        if not self.api_base.startswith(("http://", "https://")):
            raise ValueError(f"api_base must be an http(s) URL, got {self.api_base!r}")

    def __repr__(self) -> str:
        # Secrets never reach a log line, even through a repr.
        return f"SlackConfig(slug={self.slug!r}, api_base={self.api_base!r}, bot_user_id={self.bot_user_id!r})"
