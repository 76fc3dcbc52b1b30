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


class AgentFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An LLM agent in a bot file ([agents.<name>]); unset model settings use BOTRT_LLM_*."""

    system_prompt: str = ""
    description: str = ""
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None  # "${NAME}" reads the environment
    temperature: float = 0.2
    max_steps: int = 6
    max_tokens: int = 4000
    wall_time_s: float = 60.0
    history_window: int = 20
    # Built-in tools: knowledge_search, set_slot, handoff, end_conversation.
    tools: list[str] = []
    # HTTP tools as data: name, description, parameters (JSON schema), http_config {method, url, ...}.
    http_tools: list[dict[str, Any]] = []
    # Names of other agents of this bot: makes this agent a router that hands turns to them.
    specialists: list[str] = []
    limit_reply: str | None = None
    error_reply: str | None = None


class KnowledgeFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Documents ingested for the bot at start-up (paths relative to the bot file)."""

    sources: list[str] = []


class BotFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bot: BotSpec
    flow: FlowSpec
    nlu: NluSpec | None = None
    agents: dict[str, AgentFile] = {}
    knowledge: KnowledgeFile | None = None
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


def validate_agents(bot: BotFile) -> None:
    """Agent names, tools and specialists refer to things that exist."""
    builtins = {"knowledge_search", "set_slot", "handoff", "end_conversation"}
    for name, agent in bot.agents.items():
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$", name):
            raise FlowError(name, "agent names are letters, digits, _ and - (at most 63)")
        unknown = set(agent.tools) - builtins
        if unknown:
            raise FlowError(name, f"unknown built-in tools {sorted(unknown)}; known: {sorted(builtins)}")
        for specialist in agent.specialists:
            if specialist not in bot.agents or specialist == name:
                raise FlowError(name, f"specialist {specialist!r} is not another agent of this bot")
            if bot.agents[specialist].specialists:
                raise FlowError(name, f"specialist {specialist!r} is itself a router; routers do not nest")


def validate_bot(bot: BotFile) -> None:
    """Checks agents and the NLU, then the flow against the intents and entities it may use."""
    validate_agents(bot)
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
