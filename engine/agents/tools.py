"""Tools: the contract, argument validation, safe execution, and the built-ins."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Literal, Protocol, final

import msgspec

from engine.agents.errors import ToolDefinitionError
from engine.agents.ports import KnowledgeSearch, Passage, StepStatus
from engine.agents.schema import check_schema, validate
from engine.agents.wire import FunctionSpec, ToolCall
from runtime.logging import get_logger

log = get_logger(__name__)

# OpenAI's rule for function names; other servers accept at least this.
TOOL_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_TOOL_TIMEOUT_S: Final = 10.0


class ToolContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a tool may know about the turn that calls it."""

    org_id: str
    bot_id: str
    conversation_id: str
    run_id: str
    slots: dict[str, Any] = msgspec.field(default_factory=dict)


# ---- effects: what a tool asks of the conversation, applied by the caller after the turn --


class SlotSet(msgspec.Struct, frozen=True, tag="set_slot"):
    name: str
    value: Any


class HandoffRequested(msgspec.Struct, frozen=True, tag="handoff"):
    reason: str


class ConversationEnd(msgspec.Struct, frozen=True, tag="end_conversation"):
    reason: str = ""


class Cited(msgspec.Struct, frozen=True, tag="cited"):
    passages: tuple[Passage, ...]


ToolEffect = SlotSet | HandoffRequested | ConversationEnd | Cited


class ToolResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a tool gives back: ``content`` goes to the model as JSON; an error is content too."""

    content: Any
    is_error: bool = False
    effect: ToolEffect | None = None


class Tool(Protocol):
    """A callable the model may use; ``spec.parameters`` is a JSON schema of the arguments."""

    @property
    def spec(self) -> FunctionSpec: ...

    @property
    def timeout_s(self) -> float: ...

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult: ...


def check_tool(tool: Tool) -> None:
    """Refuses a tool whose name or schema the model or the validator could not use."""
    name = tool.spec.name
    if not TOOL_NAME.match(name):
        raise ToolDefinitionError(name, "names are 1-64 letters, digits, '_' or '-'")
    if tool.spec.parameters.get("type") != "object":
        raise ToolDefinitionError(name, 'parameters must be a schema of "type": "object"')
    problems = check_schema(tool.spec.parameters)
    if problems:
        raise ToolDefinitionError(name, "; ".join(problems))


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """A tool call's outcome, as recorded and as told to the model."""

    result: ToolResult
    status: StepStatus
    arguments: Any


def error_result(code: str, message: str, **details: Any) -> ToolResult:
    """A tool error the model can read and act on."""
    return ToolResult(content={"error": code, "message": message, **details}, is_error=True)


async def execute(tool: Tool | None, call: ToolCall, ctx: ToolContext) -> Execution:
    """Validates and runs one call; bad arguments, failures and timeouts become error results."""
    name = call.function.name
    if tool is None:
        return Execution(result=error_result("unknown_tool", f"there is no tool named {name!r}"), status="failed",
                         arguments=call.function.arguments)
    try:
        arguments = msgspec.json.decode(call.function.arguments or "{}")
    except msgspec.DecodeError:
        return Execution(
            result=error_result("invalid_arguments", "arguments are not valid JSON; send one JSON object"),
            status="failed", arguments=call.function.arguments,
        )
    problems = ["$: expected object"] if not isinstance(arguments, dict) else validate(tool.spec.parameters, arguments)
    if problems:
        return Execution(
            result=error_result("invalid_arguments", "fix the arguments and call again", details=problems),
            status="failed", arguments=arguments,
        )
    try:
        async with asyncio.timeout(tool.timeout_s):
            result = await tool(arguments, ctx)
    except TimeoutError:
        return Execution(result=error_result("timeout", f"{name} took longer than {tool.timeout_s:g}s"),
                         status="timed_out", arguments=arguments)
    except Exception as exc:  # noqa: BLE001 - a broken tool is news for the model, not the end of the turn
        log.warning("agent.tool_failed", tool=name, error=repr(exc))
        return Execution(result=error_result("tool_failed", f"{name} failed: {type(exc).__name__}"),
                         status="failed", arguments=arguments)
    return Execution(result=result, status="failed" if result.is_error else "succeeded", arguments=arguments)


# ---- built-in tools ----------------------------------------------------------------------


@final
class KnowledgeSearchTool:
    """knowledge_search(query): passages from the bot's knowledge base, with citations."""

    def __init__(self, search: KnowledgeSearch, *, limit: int = 4, name: str = "knowledge_search",
                 description: str = "Search the knowledge base; cite the sources you use.",
                 timeout_s: float = DEFAULT_TOOL_TIMEOUT_S) -> None:
        self._search = search
        self._limit = limit
        self.timeout_s = timeout_s
        self.spec = FunctionSpec(name=name, description=description, parameters={
            "type": "object",
            "properties": {"query": {"type": "string", "minLength": 1, "description": "What to look for"}},
            "required": ["query"],
            "additionalProperties": False,
        })

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        passages = tuple(
            await self._search.search(arguments["query"], org_id=ctx.org_id, bot_id=ctx.bot_id, limit=self._limit)
        )
        results = [
            {"source": n, "document": p.document, "position": p.position, "text": p.text}
            for n, p in enumerate(passages, start=1)
        ]
        return ToolResult(content={"results": results}, effect=Cited(passages=passages) if passages else None)


SlotCallback = Callable[[str, Any], Awaitable[None]]
ReasonCallback = Callable[[str], Awaitable[None]]


@final
class SetSlotTool:
    """set_slot(name, value): remembers a value in the conversation's slots."""

    def __init__(self, *, allowed: Sequence[str] | None = None, on_set: SlotCallback | None = None,
                 name: str = "set_slot", description: str = "Remember a value about the user in a named slot.",
                 timeout_s: float = DEFAULT_TOOL_TIMEOUT_S) -> None:
        self._on_set = on_set
        self.timeout_s = timeout_s
        slot_name: dict[str, Any] = {"type": "string", "minLength": 1}
        if allowed is not None:
            slot_name["enum"] = list(allowed)
        self.spec = FunctionSpec(name=name, description=description, parameters={
            "type": "object",
            "properties": {"name": slot_name, "value": {"type": ["string", "number", "boolean", "null"]}},
            "required": ["name", "value"],
            "additionalProperties": False,
        })

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        name, value = arguments["name"], arguments["value"]
        if self._on_set is not None:
            await self._on_set(name, value)
        return ToolResult(content={"ok": True, "slot": name}, effect=SlotSet(name=name, value=value))


@final
class HandoffTool:
    """handoff(reason): queues the conversation for a human agent."""

    def __init__(self, *, on_handoff: ReasonCallback | None = None, name: str = "handoff",
                 description: str = "Hand the conversation to a human agent when you cannot help or the user asks.",
                 timeout_s: float = DEFAULT_TOOL_TIMEOUT_S) -> None:
        self._on_handoff = on_handoff
        self.timeout_s = timeout_s
        self.spec = FunctionSpec(name=name, description=description, parameters={
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why a human is needed"}},
            "required": ["reason"],
            "additionalProperties": False,
        })

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        reason = arguments["reason"]
        if self._on_handoff is not None:
            await self._on_handoff(reason)
        return ToolResult(
            content={"ok": True, "note": "A human agent will take over. Tell the user so, briefly."},
            effect=HandoffRequested(reason=reason),
        )


@final
class EndConversationTool:
    """end_conversation(): closes the conversation once the user is done."""

    def __init__(self, *, on_end: ReasonCallback | None = None, name: str = "end_conversation",
                 description: str = "End the conversation when the user has what they need or says goodbye.",
                 timeout_s: float = DEFAULT_TOOL_TIMEOUT_S) -> None:
        self._on_end = on_end
        self.timeout_s = timeout_s
        self.spec = FunctionSpec(name=name, description=description, parameters={
            "type": "object",
            "properties": {"reason": {"type": "string"}},
            "additionalProperties": False,
        })

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        reason = arguments.get("reason", "")
        if self._on_end is not None:
            await self._on_end(reason)
        return ToolResult(content={"ok": True, "note": "Say goodbye briefly."}, effect=ConversationEnd(reason=reason))


BuiltinName = Literal["knowledge_search", "set_slot", "handoff", "end_conversation"]
