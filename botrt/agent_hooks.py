"""The plugin registry's agent hook points, as the agent loop's AgentHooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.agents import AgentHooks, ToolResult
from engine.flow import NodeCall
from runtime.hooks import HookContext, HookRegistry


def agent_hooks(registry: HookRegistry, bot_slug: Callable[[str], str]) -> Callable[[NodeCall], AgentHooks | None]:
    """Builds, per agent turn, hooks that run the plugins' before_agent, after_agent, tool_call, error."""
    def for_call(call: NodeCall) -> AgentHooks | None:
        if not any(registry.has(h) for h in ("before_agent", "after_agent", "tool_call", "error")):
            return None
        context = call.context
        ctx = HookContext(
            org_id=context.org_id,
            bot_id=context.bot_id,
            bot_slug=bot_slug(context.bot_id),
            conversation_id=context.conversation_id,
            channel_kind=context.channel,
            slots=dict(call.slots),
        )

        async def before(request: Any) -> Any:
            return await registry.run_value("before_agent", request, ctx)

        async def after(response: Any) -> Any:
            return await registry.run_value("after_agent", response, ctx)

        async def tool_call(call_: Any) -> Any:
            return await registry.run_value("tool_call", call_, ctx, stop=ToolResult)

        async def error(failure: Any) -> None:
            await registry.notify("error", failure, ctx)

        return AgentHooks(before_agent=before, after_agent=after, tool_call=tool_call, error=error)

    return for_call
