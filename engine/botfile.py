"""Bot files: TOML with [bot], [flow], [[channels]] and plugins, validated with msgspec."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from engine.errors import BotFileError, FlowError

SLUG: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ENV_REF: Final = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ButtonSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    payload: str | None = None


class CaseSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A branch case: when slot equals (or is one of) the values, go to next."""

    slot: str
    next: str
    equals: str | None = None
    one_of: list[str] = []


NodeKind = Literal["say", "ask", "branch", "jump", "end"]
Validation = Literal["text", "number", "email", "choice", "regex"]


class NodeSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    kind: NodeKind
    text: str | None = None
    buttons: list[ButtonSpec] = []
    next: str | None = None
    # ask
    slot: str | None = None
    prompt: str | None = None
    validate: Validation = "text"
    choices: list[str] = []
    pattern: str | None = None
    retry: str | None = None
    max_retries: int = 2
    # branch
    cases: list[CaseSpec] = []
    default: str | None = None
    # jump
    target: str | None = None


class FlowSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: str
    nodes: list[NodeSpec]
    fallback: str = "Sorry, I didn't get that."
    restart_keywords: list[str] = msgspec.field(default_factory=lambda: ["restart", "start over"])
    version: int = 1


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
    channels: list[dict[str, Any]] = []
    plugins: list[str] = []
    plugin_config: dict[str, dict[str, Any]] = {}
    path: str = ""

    def channel_specs(self) -> list[ChannelFileSpec]:
        """The channels' common keys; platform-specific keys stay in the raw tables."""
        return [msgspec.convert(c, ChannelFileSpec, strict=False) for c in self.channels]


def resolve_env(value: Any, environ: dict[str, str] | None = None) -> Any:
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


def validate_flow(flow: FlowSpec) -> None:
    """Checks edges and reachability; raises FlowError naming the node."""
    ids: dict[str, NodeSpec] = {}
    for node in flow.nodes:
        if node.id in ids:
            raise FlowError(node.id, "defined twice")
        ids[node.id] = node
    if flow.start not in ids:
        raise FlowError(flow.start, "is the start node but does not exist")
    for node in flow.nodes:
        match node.kind:
            case "say":
                if node.text is None:
                    raise FlowError(node.id, "a say node needs text")
            case "ask":
                if not node.slot:
                    raise FlowError(node.id, "an ask node needs a slot (the prompt is optional)")
                if node.validate == "choice" and not node.choices:
                    raise FlowError(node.id, "a choice question needs choices")
                if node.validate == "regex":
                    if not node.pattern:
                        raise FlowError(node.id, "a regex question needs pattern")
                    try:
                        re.compile(node.pattern)
                    except re.error as exc:
                        raise FlowError(node.id, f"pattern does not compile: {exc}") from exc
            case "jump":
                if not node.target:
                    raise FlowError(node.id, "a jump node needs target")
            case "branch":
                if not node.cases and not node.default:
                    raise FlowError(node.id, "a branch node needs cases or a default")
        for edge in _edges(node):
            if edge not in ids:
                raise FlowError(node.id, f"points to {edge!r}, which does not exist")
    reachable: set[str] = set()
    todo = [flow.start]
    while todo:
        current = todo.pop()
        if current in reachable:
            continue
        reachable.add(current)
        todo.extend(_edges(ids[current]))
    for node in flow.nodes:
        if node.id not in reachable:
            raise FlowError(node.id, f"is unreachable from the start node {flow.start!r}")


def _edges(node: NodeSpec) -> list[str]:
    edges = [e for e in (node.next, node.target, node.default) if e]
    edges.extend(case.next for case in node.cases)
    return edges


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
        bot = msgspec.convert({**raw, "path": str(path)}, BotFile)
        if not re.match(SLUG, bot.bot.slug):
            raise BotFileError(str(path), f"bot slug {bot.bot.slug!r} must match {SLUG}")
        bot.channel_specs()
    except msgspec.ValidationError as exc:
        raise BotFileError(str(path), str(exc)) from exc
    try:
        validate_flow(bot.flow)
    except FlowError as exc:
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
