"""Flow graphs as data: one Struct per node kind, tagged by `kind`, and their validation.

A flow is what the [flow] table of a bot file holds and what bot_flows.graph stores as JSON
(msgspec.to_builtins of a FlowSpec). Named subflows live inside it, so one version of a
bot's flow is one document.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from engine.errors import FlowError
from engine.templates import check, check_expression

MAIN: Final = "main"
SLOT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
FLOW_NAME: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
RESERVED_SLOTS: Final = frozenset({"turn", "slots"})  # names the template context uses itself
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

Validation = Literal["text", "number", "email", "phone", "date", "time", "choice", "regex"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Scalar = str | int | float | bool


class ButtonSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    payload: str | None = None


class CaseSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A branch case: every condition given must hold (AND); the first case that holds wins."""

    next: str
    slot: str | None = None  # alone: the slot is set and not empty
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    one_of: list[Scalar] = []
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    matches: str | None = None  # a regex searched in the slot's text
    exists: bool | None = None
    intent: str | list[str] | None = None  # the intent of this turn's message
    min_confidence: float | None = None
    entity: str | None = None  # this turn's message has the entity
    channel: str | list[str] | None = None  # the channel kind: webchat, sms, ...
    weekdays: list[Weekday] = []  # in the flow's time zone
    time_after: str | None = None  # "HH:MM", inclusive; after > before wraps midnight
    time_before: str | None = None  # "HH:MM", exclusive
    expr: str | None = None  # a sandboxed Jinja expression: "people|int > 8"


class _Node(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    id: str


class SayNode(_Node, frozen=True, tag="say"):
    """Sends a message (with optional buttons) and goes on."""

    text: str
    buttons: list[ButtonSpec] = []
    next: str | None = None


class AskNode(_Node, frozen=True, tag="ask"):
    """Asks for a slot, validates the answer and re-prompts up to max_retries times."""

    slot: str
    prompt: str | None = None  # without a prompt the node waits silently
    validate: Validation = "text"
    choices: list[str] = []
    pattern: str | None = None
    buttons: list[ButtonSpec] = []
    retry: str | None = None  # said before the re-prompt; the flow's fallback when unset
    max_retries: int = 2
    on_fail: str | None = None  # after max_retries wrong answers; unset: say the fallback, ask again
    min: float | None = None  # number answers
    max: float | None = None
    entity: str | None = None  # fill from this NLU entity of the message, without asking
    skip_if_filled: bool = False
    next: str | None = None


class BranchNode(_Node, frozen=True, tag="branch"):
    """Goes to the first case whose conditions hold, else to default."""

    cases: list[CaseSpec] = []
    default: str | None = None


class RouterNode(_Node, frozen=True, tag="router"):
    """Routes the user's message by its intent; unmatched or unsure goes to fallback."""

    routes: dict[str, str]
    fallback: str
    prompt: str | None = None
    buttons: list[ButtonSpec] = []
    min_confidence: float | None = None


class SetNode(_Node, frozen=True, tag="set"):
    """Assigns slots; a string value is a template, `"{{ expr }}"` alone keeps its type."""

    values: dict[str, Any] = {}
    clear: list[str] = []
    next: str | None = None


class JumpNode(_Node, frozen=True, tag="jump"):
    """Goes to a node of this flow, or to another flow (without coming back)."""

    target: str | None = None
    flow: str | None = None


class SubflowNode(_Node, frozen=True, tag="subflow"):
    """Runs another flow of the bot and comes back to next when it ends."""

    flow: str
    next: str | None = None


class EndNode(_Node, frozen=True, tag="end"):
    """Ends the current subflow (back to its caller) or, in the main flow, the conversation."""

    text: str | None = None
    scope: Literal["flow", "conversation"] = "flow"


class HandoffNode(_Node, frozen=True, tag="handoff"):
    """Asks for a human; the bot stays silent until handed back, then goes on at next."""

    reason: str = "requested by the flow"
    text: str | None = None
    queue: str | None = None
    next: str | None = None


class KnowledgeNode(_Node, frozen=True, tag="knowledge"):
    """Answers from the knowledge base; on_fail when nothing relevant is found."""

    query: str = "{{ turn.text }}"
    knowledge_base: str | None = None
    top_k: int = 3
    next: str | None = None
    on_fail: str | None = None


class AgentNode(_Node, frozen=True, tag="agent"):
    """Hands the conversation to an LLM agent until it says it is done."""

    agent: str = "default"
    instructions: str | None = None
    prompt: str | None = None  # said on arrival when there is no message to answer yet
    next: str | None = None


class HttpNode(_Node, frozen=True, tag="http"):
    """Calls an HTTP API with templated parts and maps the JSON response into slots."""

    url: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    json: Any = None  # strings inside are templates
    body: str | None = None
    timeout: float = 10.0
    save: dict[str, str] = {}  # slot -> JSON path in the response: "data.items[0].name"
    status_slot: str | None = None
    next: str | None = None
    on_error: str | None = None  # network error, timeout or a non-2xx status; unset: next


Node = (
    SayNode
    | AskNode
    | BranchNode
    | RouterNode
    | SetNode
    | JumpNode
    | SubflowNode
    | EndNode
    | HandoffNode
    | KnowledgeNode
    | AgentNode
    | HttpNode
)
NODE_KINDS: Final = tuple(
    str(t.__struct_config__.tag)
    for t in (
        SayNode, AskNode, BranchNode, RouterNode, SetNode, JumpNode, SubflowNode,
        EndNode, HandoffNode, KnowledgeNode, AgentNode, HttpNode,
    )
)  # fmt: skip


class SubflowSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: str
    nodes: list[Node]


class FlowSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: str
    nodes: list[Node]
    fallback: str = "Sorry, I didn't get that."
    restart_keywords: list[str] = msgspec.field(default_factory=lambda: ["restart", "start over"])
    version: int = 1
    timezone: str = "UTC"  # for time-of-day and weekday conditions and relative dates
    subflows: dict[str, SubflowSpec] = {}

    def graphs(self) -> dict[str, tuple[str, list[Node]]]:
        """Every flow by name, the main one first: name -> (start, nodes)."""
        return {MAIN: (self.start, self.nodes), **{n: (s.start, s.nodes) for n, s in self.subflows.items()}}


def parse_flow(raw: Any) -> FlowSpec:
    """Converts a [flow] table, naming the node in every error (kinds and fields included)."""
    if not isinstance(raw, dict):
        raise FlowError(MAIN, "the flow must be a table")
    tables: list[Any] = list(raw.get("nodes") or [])
    for sub in (raw.get("subflows") or {}).values():
        if isinstance(sub, dict):
            tables.extend(sub.get("nodes") or [])
    for table in tables:
        node_id = str(table.get("id", "?")) if isinstance(table, dict) else "?"
        kind = table.get("kind") if isinstance(table, dict) else None
        if kind not in NODE_KINDS:
            raise FlowError(node_id, f"unknown kind {kind!r}; the kinds are {', '.join(NODE_KINDS)}")
        try:
            msgspec.convert(table, Node)
        except msgspec.ValidationError as exc:
            raise FlowError(node_id, f"{kind} node: {exc}") from exc
    try:
        flow = msgspec.convert(raw, FlowSpec)
    except msgspec.ValidationError as exc:
        raise FlowError(MAIN, str(exc)) from exc
    validate_flow(flow)
    return flow


def validate_flow(flow: FlowSpec, *, intents: set[str] | None = None, entities: set[str] | None = None) -> None:
    """Checks every flow's nodes, edges and reachability; raises FlowError naming the node.

    intents and entities, when the bot has NLU, are the names routers and asks may use.
    """
    try:
        ZoneInfo(flow.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FlowError(MAIN, f"unknown timezone {flow.timezone!r}") from exc
    if flow.version < 1:
        raise FlowError(MAIN, "version must be 1 or more")
    for name in flow.subflows:
        if name == MAIN or not FLOW_NAME.match(name):
            raise FlowError(name, f"a subflow name must match {FLOW_NAME.pattern} and not be {MAIN!r}")
    flows = flow.graphs()
    for name, (start, nodes) in flows.items():
        _validate_graph(name, start, nodes, set(flows), intents, entities)
    called: set[str] = set()
    for _, nodes in flows.values():
        for node in nodes:
            if isinstance(node, SubflowNode | JumpNode) and node.flow:
                called.add(node.flow)
            if isinstance(node, JumpNode) and node.flow and node.target:
                if node.target not in {n.id for n in flows[node.flow][1]}:
                    raise FlowError(node.id, f"jumps to {node.target!r}, which flow {node.flow!r} does not have")
    for name in flow.subflows:
        if name not in called:
            raise FlowError(name, "is a subflow that no node calls or jumps to")


def _validate_graph(
    name: str, start: str, nodes: list[Node], flows: set[str], intents: set[str] | None, entities: set[str] | None
) -> None:
    ids: dict[str, Node] = {}
    for node in nodes:
        if node.id in ids:
            raise FlowError(node.id, "defined twice")
        ids[node.id] = node
    if start not in ids:
        where = "" if name == MAIN else f" of subflow {name!r}"
        raise FlowError(start, f"is the start node{where} but does not exist")
    for node in nodes:
        problem = _problem(node, flows, intents, entities)
        if problem:
            raise FlowError(node.id, problem)
        for edge in edges(node):
            if edge not in ids:
                raise FlowError(node.id, f"points to {edge!r}, which does not exist")
    reachable: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current not in reachable:
            reachable.add(current)
            todo.extend(edges(ids[current]))
    for node in nodes:
        if node.id not in reachable:
            raise FlowError(node.id, f"is unreachable from the start node {start!r}")


def edges(node: Node) -> list[str]:
    """The node ids, in the same flow, that a node can go to."""
    match node:
        case BranchNode(cases=cases, default=default):
            found = [c.next for c in cases] + ([default] if default else [])
        case RouterNode(routes=routes, fallback=fallback):
            found = [*routes.values(), fallback]
        case JumpNode(target=target, flow=flow):
            found = [target] if target and not flow else []
        case AskNode(next=next_, on_fail=on_fail) | KnowledgeNode(next=next_, on_fail=on_fail):
            found = [e for e in (next_, on_fail) if e]
        case HttpNode(next=next_, on_error=on_error):
            found = [e for e in (next_, on_error) if e]
        case (
            SayNode(next=next_) | SetNode(next=next_) | SubflowNode(next=next_) | HandoffNode(next=next_)
            | AgentNode(next=next_)
        ):  # fmt: skip
            found = [next_] if next_ else []
        case _:
            found = []
    return found


def _templates(node: Node) -> list[str]:
    match node:
        case SayNode(text=text, buttons=buttons):
            return [text, *(b.title for b in buttons)]
        case AskNode(prompt=prompt, retry=retry, buttons=buttons):
            return [t for t in (prompt, retry) if t] + [b.title for b in buttons]
        case RouterNode(prompt=prompt, buttons=buttons):
            return ([prompt] if prompt else []) + [b.title for b in buttons]
        case SetNode(values=values):
            return [v for v in values.values() if isinstance(v, str)]
        case EndNode(text=text) | AgentNode(prompt=text):
            return [text] if text else []
        case HandoffNode(reason=reason, text=text):
            return [reason] + ([text] if text else [])
        case KnowledgeNode(query=query):
            return [query]
        case HttpNode():
            return [node.url, *node.headers.values(), *node.query.values(), *_strings(node.json)] + (
                [node.body] if node.body else []
            )
    return []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _problem(node: Node, flows: set[str], intents: set[str] | None, entities: set[str] | None) -> str | None:
    for template in _templates(node):
        error = check(template)
        if error:
            return f"template {template!r} does not compile: {error}"
    match node:
        case AskNode():
            return _ask_problem(node, entities)
        case BranchNode(cases=cases, default=default):
            if not cases and not default:
                return "a branch node needs cases or a default"
            for case in cases:
                problem = _case_problem(case, intents)
                if problem:
                    return problem
        case RouterNode(routes=routes, min_confidence=min_confidence):
            if not routes:
                return "a router needs routes (intent = node)"
            if intents is not None and (unknown := sorted(set(routes) - intents)):
                return f"routes intents the NLU does not know: {', '.join(unknown)}"
            if min_confidence is not None and not 0 <= min_confidence <= 1:
                return "min_confidence must be between 0 and 1"
        case SetNode(values=values, clear=clear):
            if not values and not clear:
                return "a set node needs values or clear"
            for slot in [*values, *clear]:
                if not SLOT.match(slot) or slot in RESERVED_SLOTS:
                    return f"slot {slot!r} must match {SLOT.pattern} and not be one of {sorted(RESERVED_SLOTS)}"
        case JumpNode(target=target, flow=flow):
            if not target and not flow:
                return "a jump node needs target (a node) or flow"
            if flow and flow not in flows:
                return f"jumps to flow {flow!r}, which does not exist"
        case SubflowNode(flow=flow):
            if flow not in flows:
                return f"calls flow {flow!r}, which does not exist"
        case KnowledgeNode(top_k=top_k) if top_k < 1:
            return "top_k must be 1 or more"
        case HttpNode():
            if not node.url.startswith(("http://", "https://", "{{")):
                return "url must start with http:// or https://"
            if not 0 < node.timeout <= 120:
                return "timeout must be between 0 and 120 seconds"
            if node.json is not None and node.body is not None:
                return "give json or body, not both"
            for slot in [*node.save, *([node.status_slot] if node.status_slot else [])]:
                if not SLOT.match(slot) or slot in RESERVED_SLOTS:
                    return f"slot {slot!r} must match {SLOT.pattern}"
    return None


def _ask_problem(node: AskNode, entities: set[str] | None) -> str | None:
    if not SLOT.match(node.slot) or node.slot in RESERVED_SLOTS:
        return f"slot {node.slot!r} must match {SLOT.pattern} and not be one of {sorted(RESERVED_SLOTS)}"
    if node.validate == "choice" and not node.choices and not node.buttons:
        return "a choice question needs choices"
    if node.validate == "regex":
        if not node.pattern:
            return "a regex question needs pattern"
        try:
            re.compile(node.pattern)
        except re.error as exc:
            return f"pattern does not compile: {exc}"
    if node.max_retries < 0:
        return "max_retries must be 0 or more"
    if node.entity and entities is not None and node.entity not in entities:
        return f"entity {node.entity!r} is not defined in [nlu]"
    return None


def _case_problem(case: CaseSpec, intents: set[str] | None) -> str | None:
    conditions = [
        case.slot, case.intent, case.entity, case.channel, case.time_after, case.time_before, case.expr,
        case.weekdays or None,
    ]  # fmt: skip
    if all(c is None for c in conditions):
        return f"the case to {case.next!r} has no condition"
    if case.slot is None and any(
        v is not None for v in (case.equals, case.not_equals, case.gt, case.gte, case.lt, case.lte, case.matches)
    ):
        return f"the case to {case.next!r} compares a value but names no slot"
    for value in (case.time_after, case.time_before):
        if value is not None and not _HHMM.match(value):
            return f"the case to {case.next!r}: times are HH:MM, not {value!r}"
    if case.matches is not None:
        try:
            re.compile(case.matches)
        except re.error as exc:
            return f"the case to {case.next!r}: pattern does not compile: {exc}"
    if case.expr is not None and (error := check_expression(case.expr)):
        return f"the case to {case.next!r}: expr does not compile: {error}"
    if intents is not None and case.intent is not None:
        wanted = {case.intent} if isinstance(case.intent, str) else set(case.intent)
        if unknown := sorted(wanted - intents):
            return f"the case to {case.next!r} names intents the NLU does not know: {', '.join(unknown)}"
    return None
