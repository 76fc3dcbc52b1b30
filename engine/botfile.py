"""Bot files: TOML with [bot], [flow], [nlu], [[channels]] and plugins, validated with msgspec."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from engine.errors import BotFileError, FlowError, NluSpecError
from engine.flowspec import FlowSpec, parse_flow, validate_flow
from engine.nlu.spec import NluSpec, validate_nlu

SLUG: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ENV_REF: Final = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class BotSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: str
    name: str
    org: str = "default"


class ChannelFileSpec(msgspec.Struct, frozen=True, kw_only=True):
    type: Literal["webchat", "telegram", "whatsapp", "slack", "sms", "instagram", "voice"]
    slug: str
    allowed_origins: list[str] = []
    api_base: str | None = None
    settings: dict[str, Any] = {}


class BotFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bot: BotSpec
    flow: FlowSpec
    nlu: NluSpec | None = None
    channels: list[dict[str, Any]] = []
    plugins: list[str] = []
    plugin_config: dict[str, dict[str, Any]] = {}
    path: str = ""

    def channel_specs(self) -> list[ChannelFileSpec]:
        """The channels' common keys; platform-specific keys stay in the raw tables."""
        return [msgspec.convert(c, ChannelFileSpec, strict=False) for c in self.channels]


def resolve_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Replaces "${NAME}" strings with the environment variable, recursively."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        match = _ENV_REF.match(value)
        if match:
            name = match.group(1)
            if name not in env:
                raise BotFileError(value, f"environment variable {name} is not set")
            return env[name]
        return value
    if isinstance(value, dict):
        return {k: resolve_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, env) for v in value]
    return value


def validate_bot(bot: BotFile) -> None:
    """Checks the NLU, then the flow against the intents and entities it may use."""
    if bot.nlu is None:
        # Without [nlu] no message is understood: routers see only "/intent" button payloads,
        # and an ask node has no entities to fill from.
        validate_flow(bot.flow, intents=None, entities=set())
        return
    validate_nlu(bot.nlu)
    intents = {i.name for i in bot.nlu.intents} | {bot.nlu.fallback_intent}
    entities = {e.name for e in bot.nlu.entities} | set(bot.nlu.builtins)
    validate_flow(bot.flow, intents=intents, entities=entities)


def load_bot_file(path: Path) -> BotFile:
    """Reads and validates one bot file; errors name the file and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BotFileError(str(path), f"cannot read TOML: {exc}") from exc
    flow = raw.get("flow")
    if isinstance(flow, str):  # a path to a TOML file holding the flow table
        flow_path = (path.parent / flow).resolve()
        try:
            raw["flow"] = tomllib.loads(flow_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise BotFileError(str(flow_path), f"cannot read flow: {exc}") from exc
    try:
        # Nodes first, one by one, so an unknown kind or a bad field names its node.
        parse_flow(raw.get("flow"))
    except FlowError as exc:
        raise BotFileError(str(path), str(exc)) from exc
    try:
        bot = msgspec.convert({**raw, "path": str(path)}, BotFile)
        if not re.match(SLUG, bot.bot.slug):
            raise BotFileError(str(path), f"bot slug {bot.bot.slug!r} must match {SLUG}")
        bot.channel_specs()
    except msgspec.ValidationError as exc:
        raise BotFileError(str(path), str(exc)) from exc
    try:
        validate_bot(bot)
    except (FlowError, NluSpecError) as exc:
        raise BotFileError(str(path), str(exc)) from exc
    return bot


def load_bots(location: Path) -> list[BotFile]:
    """A directory's top-level *.toml files, or one file."""
    if location.is_dir():
        paths = sorted(location.glob("*.toml"))
    elif location.is_file():
        paths = [location]
    else:
        raise BotFileError(str(location), "no such file or directory (set BOTRT_BOTS)")
    bots = [load_bot_file(p) for p in paths]
    seen: dict[str, str] = {}
    for bot in bots:
        for channel in bot.channel_specs():
            if channel.slug in seen:
                raise BotFileError(bot.path, f"channel slug {channel.slug!r} is also used in {seen[channel.slug]}")
            seen[channel.slug] = bot.path
    return bots
