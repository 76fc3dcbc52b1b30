"""The flow runner: walks a validated flow graph one turn at a time.

State between turns is plain JSON data that persists with the conversation after every turn:
{"flow_version": v, "flow": current flow name, "node": the node waiting for the user or None,
"slots": {...}, "retries": n, "stack": [{"flow", "next"}] (subflow return points),
"history": the last few messages}. Nothing else is kept between turns, so a restart loses nothing.

Knowledge, agent and http nodes reach the outside world only through the injected
NodeServices and HttpCaller, so the runner itself does no I/O.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final
from zoneinfo import ZoneInfo

import msgspec

from engine.conditions import accept, case_holds
from engine.errors import FlowVersionError, HttpCallError
from engine.flowspec import (
    MAIN,
    RESERVED_SLOTS,
    SLOT,
    AgentNode,
    AskNode,
    BranchNode,
    ButtonSpec,
    EndNode,
    FlowSpec,
    HandoffNode,
    HttpNode,
    JumpNode,
    KnowledgeNode,
    Node,
    RouterNode,
    SayNode,
    SetNode,
    SubflowNode,
)
from engine.http_node import HttpAnswer, HttpCaller, build_request, decode_json, json_path
from engine.nlu.nlu import payload_intent
from engine.nlu.types import Understanding
from engine.templates import render, render_value
from engine.turn import (
    AgentReply,
    Handoff,
    NodeCall,
    NodeServices,
    NoServices,
    Said,
    Status,
    TurnContext,
    TurnOutput,
    UserInput,
)
from runtime.errors import BotrtError
from runtime.events import Button
from runtime.logging import get_logger

log = get_logger(__name__)

MAX_STEPS_PER_TURN: Final = 50
MAX_SUBFLOW_DEPTH: Final = 8
HISTORY_WINDOW: Final = 10  # messages kept in the state for agents and templates

__all__ = [
    "AgentReply", "BotFlows", "FlowRunner", "Handoff", "HttpAnswer", "HttpCaller",
    "NodeCall", "NodeServices", "Said", "TurnContext", "TurnOutput", "UserInput",
]  # fmt: skip


class _Stop(enum.Enum):
    STOP = "stop"  # the turn is over: the flow waits, ended, or handed off


_STOP: Final = _Stop.STOP
Next = str | None | _Stop


@dataclass(slots=True)
class _Turn:
    """One turn in the making."""

    state: dict[str, Any]
    context: TurnContext
    now: dt.datetime
    input: UserInput | None
    # The message has not yet been routed by a router / used as an answer to an ask.
    unrouted: bool
    unanswered: bool
    used_entities: set[tuple[int, int]] = field(default_factory=set)
    said: list[Said] = field(default_factory=list)
    status: Status = "active"
    handoff: Handoff | None = None

    @property
    def slots(self) -> dict[str, Any]:
        return self.state["slots"]  # type: ignore[no-any-return]

    @property
    def understanding(self) -> Understanding | None:
        return self.input.understanding if self.input is not None else None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@final
class FlowRunner:
    """Runs one version of a bot's flow; stateless itself, all state is passed in and returned."""

    def __init__(
        self,
        flow: FlowSpec,
        *,
        version: int | None = None,
        services: NodeServices | None = None,
        http: HttpCaller | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.flow = flow
        self.version = flow.version if version is None else version
        self._graphs = {name: (start, {n.id: n for n in nodes}) for name, (start, nodes) in flow.graphs().items()}
        self._restart = {k.casefold() for k in flow.restart_keywords}
        self._zone = ZoneInfo(flow.timezone)
        self._services: NodeServices = services or NoServices()
        self._http = http
        self._clock = clock

    def now(self, context: TurnContext | None = None) -> dt.datetime:
        """The turn's time in the flow's time zone."""
        moment = (context.now if context is not None else None) or self._clock()
        return moment.astimezone(self._zone)

    async def start(
        self, said: UserInput | None = None, context: TurnContext | None = None, *, slots: dict[str, Any] | None = None
    ) -> TurnOutput:
        """Begins at the start node and runs until the flow waits; said is the opening message, if any."""
        turn = self._turn(self._fresh(slots), context, said)
        await self._begin(turn)
        return self._output(turn)

    async def handle(self, state: Mapping[str, Any], said: UserInput, context: TurnContext | None = None) -> TurnOutput:
        """Feeds the user's message to the waiting node and runs on."""
        if said.text.strip().casefold() in self._restart:
            return await self.start(context=context)
        turn = self._turn(_copy_state(state, self.version), context, said)
        node = self._node(turn.state.get("flow", MAIN), turn.state.get("node"))
        match node:
            case AskNode():
                await self._go(turn, await self._answer(turn, node))
            case RouterNode():
                await self._go(turn, self._route(turn, node))
            case AgentNode():
                await self._go(turn, await self._agent(turn, node))
            case HandoffNode(next=after) if after:
                await self._go(turn, after)  # handed back: go on, with this message still unrouted
            case HandoffNode():
                turn.state = self._fresh(turn.slots) | {"history": turn.state["history"]}
                await self._begin(turn)
            case _:
                # The flow had ended (or the waiting node is gone from this version):
                # a new message starts it again, and the message is what it starts with.
                missing = turn.state.get("node") is not None
                if missing:
                    log.warning("flow.node_missing", node=turn.state.get("node"), version=self.version)
                turn.state = self._fresh(turn.slots if missing else {}) | {"history": turn.state["history"]}
                await self._begin(turn)
        return self._output(turn)

    # ---- the walk -----------------------------------------------------------------------

    async def _begin(self, turn: _Turn) -> None:
        await self._go(turn, self.flow.start)
        waiting = self._node(turn.state["flow"], turn.state["node"])
        if isinstance(waiting, AskNode) and not turn.said and turn.unanswered and turn.unrouted:
            # A flow that opens with a silent question (no prompt): the opening message answers it.
            await self._go(turn, await self._answer(turn, waiting))

    def _fresh(self, slots: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "node": None,
            "flow": MAIN,
            "slots": dict(slots or {}),
            "retries": 0,
            "stack": [],
            "history": [],
            "flow_version": self.version,
        }

    def _turn(self, state: dict[str, Any], context: TurnContext | None, said: UserInput | None) -> _Turn:
        context = context or TurnContext()
        if said is not None and said.understanding is None:
            named = payload_intent(said.text, said.payload)
            if named is not None:
                said = msgspec.structs.replace(said, understanding=named)
        turn = _Turn(
            state=state,
            context=context,
            now=self.now(context),
            input=said,
            unrouted=said is not None,
            unanswered=said is not None,
        )
        if said is not None:
            _remember(turn.state, "user", said.text)
        return turn

    def _node(self, flow: str, node_id: str | None) -> Node | None:
        graph = self._graphs.get(flow)
        if graph is None or node_id is None:
            return None
        return graph[1].get(node_id)

    async def _go(self, turn: _Turn, target: Next) -> None:
        """Runs from target until a node waits for the user, or the flow ends."""
        for _ in range(MAX_STEPS_PER_TURN):
            if target is _STOP:
                return
            if target is None:
                stack: list[dict[str, Any]] = turn.state["stack"]
                if not stack:
                    self._finish(turn)
                    return
                frame = stack.pop()  # back from a subflow to its caller
                turn.state["flow"] = frame["flow"]
                target = frame["next"]
                continue
            node = self._node(turn.state["flow"], target)
            if node is None:
                self._abort(turn, f"node {target!r} is missing from flow {turn.state['flow']!r}")
                return
            target = await self._step(turn, node)
        self._abort(turn, f"ran {MAX_STEPS_PER_TURN} steps without waiting for the user (a loop?)")

    async def _step(self, turn: _Turn, node: Node) -> Next:
        """Arrives at a node: acts, and says where to go next."""
        match node:
            case SayNode():
                self._say(turn, node.text, node.buttons)
                return node.next
            case AskNode():
                return self._arrive_ask(turn, node)
            case BranchNode():
                return self._branch(turn, node)
            case RouterNode():
                if turn.unrouted:
                    return self._route(turn, node)
                if node.prompt or node.buttons:
                    self._say(turn, node.prompt or "", node.buttons)
                return self._wait(turn, node)
            case SetNode():
                # A snapshot: every value is rendered from the slots as they were before the node.
                context = dict(self._context(turn))
                for slot, value in node.values.items():
                    turn.slots[slot] = _plain(render_value(value, context) if isinstance(value, str) else value)
                for slot in node.clear:
                    turn.slots.pop(slot, None)
                return node.next
            case JumpNode(flow=flow) if flow:
                turn.state["flow"] = flow
                return node.target or self._graphs[flow][0]
            case JumpNode():
                return node.target
            case SubflowNode():
                if len(turn.state["stack"]) >= MAX_SUBFLOW_DEPTH:
                    self._abort(turn, f"subflows nested deeper than {MAX_SUBFLOW_DEPTH}")
                    return _STOP
                turn.state["stack"].append({"flow": turn.state["flow"], "next": node.next})
                turn.state["flow"] = node.flow
                return self._graphs[node.flow][0]
            case EndNode():
                if node.text:
                    self._say(turn, node.text)
                if node.scope == "conversation":
                    turn.state["stack"] = []
                return None
            case HandoffNode():
                if node.text:
                    self._say(turn, node.text)
                reason = render(node.reason, self._context(turn)) or "requested by the flow"
                turn.handoff = Handoff(reason=reason, node=node.id, queue=node.queue)
                turn.status = "handoff"
                return self._wait(turn, node)
            case KnowledgeNode():
                return await self._knowledge(turn, node)
            case AgentNode():
                # Any message of this turn goes to the agent, even one an ask just took as its
                # answer: the agent sees the slots and the history and carries on from there.
                if turn.input is not None:
                    return await self._agent(turn, node)
                if node.prompt:
                    self._say(turn, node.prompt)
                return self._wait(turn, node)
            case HttpNode():
                return await self._call_http(turn, node)

    def _wait(self, turn: _Turn, node: Node) -> _Stop:
        turn.state["node"] = node.id
        return _STOP

    def _finish(self, turn: _Turn) -> None:
        turn.state.update(node=None, flow=MAIN, stack=[], retries=0)
        turn.status = "ended"

    def _abort(self, turn: _Turn, problem: str) -> None:
        """A broken graph at run time: say the fallback and start over next time, never crash the turn."""
        log.error("flow.aborted", problem=problem, version=self.version)
        self._say(turn, self.flow.fallback)
        turn.state.update(node=None, flow=MAIN, stack=[], retries=0)

    def _say(self, turn: _Turn, text: str, buttons: list[ButtonSpec] | tuple[Button, ...] = ()) -> None:
        context = self._context(turn)
        rendered = tuple(b if isinstance(b, Button) else _button(b, context) for b in buttons)
        turn.said.append(Said(render(text, context), rendered))

    # ---- ask ----------------------------------------------------------------------------

    def _arrive_ask(self, turn: _Turn, node: AskNode) -> Next:
        if node.skip_if_filled and turn.slots.get(node.slot) not in (None, ""):
            return node.next
        understanding = turn.understanding
        if node.entity and turn.unanswered and understanding is not None:
            # "a table for 4 tomorrow" answers "how many?" and "which day?" before they are asked.
            for entity in understanding.entities:
                span = (entity.start, entity.end)
                if entity.entity != node.entity or span in turn.used_entities:
                    continue
                value = accept(node, str(entity.value), None, turn.now.date())
                if value is not None:
                    turn.slots[node.slot] = value
                    turn.used_entities.add(span)
                    return node.next
        turn.state["retries"] = 0
        self._prompt(turn, node)
        return self._wait(turn, node)

    def _prompt(self, turn: _Turn, node: AskNode) -> None:
        """Says the question, if the node has one; a node without a prompt waits silently."""
        buttons: tuple[Button, ...] | list[ButtonSpec] = node.buttons
        if not buttons and node.validate == "choice":
            buttons = tuple(Button(title=c, payload=c) for c in node.choices)
        if node.prompt or buttons:
            self._say(turn, node.prompt or "", buttons)

    async def _answer(self, turn: _Turn, node: AskNode) -> Next:
        said = turn.input
        assert said is not None  # handle() always has the user's message
        value = accept(node, said.text, said.payload, turn.now.date())
        if value is not None:
            turn.slots[node.slot] = value
            turn.state["retries"] = 0
            turn.unanswered = turn.unrouted = False
            return node.next
        retries = int(turn.state.get("retries", 0)) + 1
        if retries > node.max_retries:
            turn.state["retries"] = 0
            if node.on_fail:
                turn.unanswered = turn.unrouted = False
                return node.on_fail
            # Out of patience and nowhere else to go: say the fallback and ask again from scratch.
            self._say(turn, self.flow.fallback)
        else:
            turn.state["retries"] = retries
            self._say(turn, node.retry or self.flow.fallback)
        self._prompt(turn, node)
        return self._wait(turn, node)

    # ---- branch and router --------------------------------------------------------------

    def _branch(self, turn: _Turn, node: BranchNode) -> Next:
        context = self._context(turn)
        for case in node.cases:
            if case_holds(
                case,
                slots=turn.slots,
                context=context,
                understanding=turn.understanding,
                channel=turn.context.channel,
                now=turn.now,
            ):
                return case.next
        return node.default

    def _route(self, turn: _Turn, node: RouterNode) -> Next:
        turn.unrouted = False
        understanding = turn.understanding
        if understanding is None:
            return node.fallback
        if understanding.is_fallback:  # routes may name the fallback intent itself
            return node.routes.get(understanding.intent, node.fallback)
        if node.min_confidence is not None and understanding.confidence < node.min_confidence:
            return node.fallback
        return node.routes.get(understanding.intent, node.fallback)

    # ---- services -----------------------------------------------------------------------

    async def _knowledge(self, turn: _Turn, node: KnowledgeNode) -> Next:
        query = render(node.query, self._context(turn)).strip()
        answers = await self._services.knowledge_answer(query, node, self._call(turn)) if query else []
        if answers:
            turn.said.extend(answers)
            return node.next
        if node.on_fail:
            return node.on_fail
        self._say(turn, self.flow.fallback)
        return node.next

    async def _agent(self, turn: _Turn, node: AgentNode) -> Next:
        said = turn.input
        assert said is not None  # callers check
        turn.unanswered = turn.unrouted = False
        reply = await self._services.agent_turn(node, said.text, self._call(turn))
        turn.said.extend(reply.said)
        for slot, value in reply.slots.items():
            if SLOT.match(slot) and slot not in RESERVED_SLOTS:
                turn.slots[slot] = _plain(value)
        match reply.outcome:
            case "done":
                return node.next
            case "handoff":
                turn.handoff = Handoff(reason=reply.reason or "requested by the agent", node=node.id)
                turn.status = "handoff"
                return self._wait(turn, node)
            case "end":
                turn.state["stack"] = []
                return None
        return self._wait(turn, node)

    async def _call_http(self, turn: _Turn, node: HttpNode) -> Next:
        answer: HttpAnswer | None = None
        try:
            request = build_request(node, self._context(turn))
            if self._http is None:
                raise HttpCallError(request.url, "no HttpCaller was given to the flow runner")
            # The caller applies timeout_s too; this bound holds even for a caller that forgets.
            async with asyncio.timeout(node.timeout + 1.0):
                answer = await self._http.request(
                    request.method, request.url, headers=request.headers, body=request.body, timeout_s=request.timeout_s
                )
        # Callers raise BotrtError subclasses (engine.errors.HttpCallError, or the agents' own
        # HttpCallError from botrt.llm_transport) when no answer came; both take the error edge.
        except (BotrtError, TimeoutError) as exc:
            log.warning("flow.http_failed", node=node.id, error=type(exc).__name__, detail=str(exc)[:200])
        status = answer.status if answer is not None else 0
        if node.status_slot:
            turn.slots[node.status_slot] = status
        if answer is None or not 200 <= status < 300:
            return node.on_error or node.next
        document = decode_json(answer.body)
        for slot, path in node.save.items():
            turn.slots[slot] = _plain(json_path(document, path))
        return node.next

    # ---- helpers ------------------------------------------------------------------------

    def _context(self, turn: _Turn) -> Mapping[str, Any]:
        """What templates and expressions see: the slots by name, `slots`, and `turn`."""
        return _TemplateContext(turn)

    def _call(self, turn: _Turn) -> NodeCall:
        return NodeCall(
            context=turn.context,
            slots=dict(turn.slots),
            history=list(turn.state.get("history", [])),
            understanding=turn.understanding,
        )

    def _output(self, turn: _Turn) -> TurnOutput:
        for said in turn.said:
            if said.text:
                _remember(turn.state, "bot", said.text)
        return TurnOutput(state=turn.state, said=turn.said, status=turn.status, handoff=turn.handoff)


class _TemplateContext(Mapping[str, Any]):
    """A turn's template values, made when read: most replies read one slot (`{{ said }}`), and
    `turn` (dates formatted in the flow's zone, the NLU result) costs more than the reply."""

    __slots__ = ("_turn",)

    def __init__(self, turn: _Turn) -> None:
        self._turn = turn

    def __getitem__(self, key: str) -> Any:
        if key == "turn":
            return _turn_info(self._turn)
        if key == "slots":
            return dict(self._turn.slots)
        return self._turn.slots[key]

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self._turn.slots if k not in ("slots", "turn"))
        yield "slots"
        yield "turn"

    def __len__(self) -> int:
        return len(self._turn.slots.keys() - {"slots", "turn"}) + 2


def _turn_info(turn: _Turn) -> dict[str, Any]:
    understanding = turn.understanding
    entities: dict[str, Any] = {}
    for entity in understanding.entities if understanding else ():
        entities.setdefault(entity.entity, entity.value)
    return {
        "text": turn.input.text if turn.input else "",
        "payload": turn.input.payload if turn.input else None,
        "intent": understanding.intent if understanding else None,
        "confidence": understanding.confidence if understanding else None,
        "entities": entities,
        "channel": turn.context.channel,
        "date": turn.now.date().isoformat(),
        "time": turn.now.strftime("%H:%M"),
        "weekday": turn.now.strftime("%a").lower(),
    }


def _button(spec: ButtonSpec, context: Mapping[str, Any]) -> Button:
    title = render(spec.title, context)
    return Button(title=title, payload=spec.payload or title)


def _copy_state(state: Mapping[str, Any], version: int) -> dict[str, Any]:
    """A copy the turn may change; states from before subflows and history get their keys."""
    return {
        **state,
        "flow": state.get("flow") or MAIN,
        "slots": dict(state.get("slots") or {}),
        "stack": [dict(frame) for frame in state.get("stack") or []],
        "history": list(state.get("history") or []),
        "flow_version": version,
    }


def _remember(state: dict[str, Any], role: str, text: str) -> None:
    history: list[dict[str, str]] = state.setdefault("history", [])
    history.append({"role": role, "text": text[:1000]})
    del history[:-HISTORY_WINDOW]


def _plain(value: Any) -> Any:
    """A JSON-safe value for the state: anything exotic a template returns becomes text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


@final
class BotFlows:
    """Every loaded version of one bot's flow: a conversation finishes on the version it began on."""

    def __init__(
        self,
        *,
        services: NodeServices | None = None,
        http: HttpCaller | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self._runners: dict[int, FlowRunner] = {}
        self._current: int | None = None
        self._services = services
        self._http = http
        self._clock = clock

    def add(self, version: int, flow: FlowSpec, *, publish: bool = True) -> FlowRunner:
        """Holds a version (again: a no-op when unchanged); publish makes new conversations use it."""
        held = self._runners.get(version)
        if held is not None and held.flow != flow:
            raise FlowVersionError(version, "is already loaded with different content; give the change a new version")
        runner = held or FlowRunner(flow, version=version, services=self._services, http=self._http, clock=self._clock)
        self._runners[version] = runner
        if publish or self._current is None:
            self._current = version
        return runner

    def publish(self, version: int) -> None:
        """New conversations (and conversations that ended) start on this version."""
        if version not in self._runners:
            raise FlowVersionError(version, "is not loaded")
        self._current = version

    @property
    def current(self) -> FlowRunner:
        """The published version."""
        if self._current is None:
            raise LookupError("no flow version loaded")
        return self._runners[self._current]

    def versions(self) -> list[int]:
        """The versions held, oldest first."""
        return sorted(self._runners)

    def runner_for(self, state: Mapping[str, Any]) -> FlowRunner:
        """The version a conversation in progress started on; the published one otherwise."""
        version = state.get("flow_version")
        in_progress = state.get("node") is not None
        if in_progress and isinstance(version, int) and version in self._runners:
            return self._runners[version]
        if in_progress and version is not None and version != self._current:
            log.warning("flow.version_missing", version=version, current=self._current)
        return self.current
