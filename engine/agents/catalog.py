"""Builds tools from their definitions (tool_definitions rows or bot files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from engine.agents.errors import ToolDefinitionError
from engine.agents.http_tool import HttpTool, HttpToolConfig
from engine.agents.ports import HttpCaller, KnowledgeSearch
from engine.agents.tools import (
    BuiltinName,
    EndConversationTool,
    HandoffTool,
    KnowledgeSearchTool,
    ReasonCallback,
    SetSlotTool,
    SlotCallback,
    Tool,
    check_tool,
)
from engine.agents.wire import FunctionSpec


class ToolDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A tool as data: the columns of tool_definitions."""

    name: str
    description: str
    kind: Literal["http", "builtin"]
    builtin_name: BuiltinName | None = None
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    http_config: HttpToolConfig | None = None
    timeout_ms: int = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltinDeps:
    """What the built-in tools need from the rest of the system (all optional)."""

    knowledge: KnowledgeSearch | None = None
    knowledge_limit: int = 4
    slots: Sequence[str] | None = None
    on_set_slot: SlotCallback | None = None
    on_handoff: ReasonCallback | None = None
    on_end: ReasonCallback | None = None


def build_tool(definition: ToolDefinition, *, http: HttpCaller | None = None, builtins: BuiltinDeps | None = None,
               secrets: Mapping[str, str] | None = None) -> Tool:
    """One tool from its definition; raises ToolDefinitionError naming the tool."""
    deps = builtins or BuiltinDeps()
    timeout_s = definition.timeout_ms / 1000
    name, description = definition.name, definition.description
    tool: Tool
    match definition.kind, definition.builtin_name:
        case "http", _:
            if definition.http_config is None or http is None:
                raise ToolDefinitionError(name, "an http tool needs http_config and an HTTP caller")
            spec = FunctionSpec(name=name, description=description, parameters=definition.parameters)
            return HttpTool(spec=spec, config=definition.http_config, caller=http, secrets=secrets, timeout_s=timeout_s)
        case "builtin", "knowledge_search":
            if deps.knowledge is None:
                raise ToolDefinitionError(name, "knowledge_search needs a knowledge base")
            tool = KnowledgeSearchTool(deps.knowledge, limit=deps.knowledge_limit, name=name,
                                       description=description, timeout_s=timeout_s)
        case "builtin", "set_slot":
            tool = SetSlotTool(allowed=deps.slots, on_set=deps.on_set_slot, name=name, description=description,
                               timeout_s=timeout_s)
        case "builtin", "handoff":
            tool = HandoffTool(on_handoff=deps.on_handoff, name=name, description=description, timeout_s=timeout_s)
        case "builtin", "end_conversation":
            tool = EndConversationTool(on_end=deps.on_end, name=name, description=description, timeout_s=timeout_s)
        case _:
            raise ToolDefinitionError(name, f"unknown tool kind {definition.kind!r}/{definition.builtin_name!r}")
    check_tool(tool)
    return tool


def build_tools(definitions: Sequence[ToolDefinition], *, http: HttpCaller | None = None,
                builtins: BuiltinDeps | None = None,
                secrets: Mapping[str, Mapping[str, str]] | None = None) -> list[Tool]:
    """Tools from definitions (secrets keyed by tool name); a repeated name is an error."""
    tools: list[Tool] = []
    seen: set[str] = set()
    for definition in definitions:
        if definition.name in seen:
            raise ToolDefinitionError(definition.name, "defined twice")
        seen.add(definition.name)
        tools.append(build_tool(definition, http=http, builtins=builtins,
                                secrets=(secrets or {}).get(definition.name)))
    return tools
