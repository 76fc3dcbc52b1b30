"""Builds a bot's agents (runners) from its bot file: LLM client, tools, router."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from engine.agents import (
    Agent,
    AgentLimits,
    AgentRecorder,
    AgentSpec,
    BuiltinDeps,
    ChatClient,
    HttpCaller,
    KnowledgeSearch,
    LLMOverrides,
    LLMTransport,
    RouterAgent,
    ToolDefinition,
    UsageMeter,
    build_tools,
    resolve_llm_config,
)
from engine.botfile import AgentFile, BotFile, resolve_env
from runtime.config import Settings


def agent_spec(name: str, agent: AgentFile, agent_id: str | None) -> AgentSpec:
    """The agents package's spec of a bot-file agent."""
    extra: dict[str, Any] = {}
    if agent.limit_reply:
        extra["limit_reply"] = agent.limit_reply
    if agent.error_reply:
        extra["error_reply"] = agent.error_reply
    return AgentSpec(
        name=name,
        agent_id=agent_id,
        description=agent.description,
        system_prompt=agent.system_prompt,
        temperature=agent.temperature,
        history_window=agent.history_window,
        limits=AgentLimits(max_steps=agent.max_steps, max_tokens=agent.max_tokens, wall_time_s=agent.wall_time_s),
        **extra,
    )


def build_agents(
    bot: BotFile,
    *,
    settings: Settings,
    agent_ids: Mapping[str, str],
    transport: LLMTransport,
    http: HttpCaller | None,
    recorder: AgentRecorder,
    meter: UsageMeter,
    knowledge: KnowledgeSearch | None,
) -> dict[str, Any]:
    """The bot's runners by agent name; specialists first so routers can hold them."""
    runners: dict[str, Any] = {}
    ordered = sorted(bot.agents.items(), key=lambda item: bool(item[1].specialists))
    for name, agent in ordered:
        overrides = LLMOverrides(
            base_url=agent.base_url, api_key=resolve_env(agent.api_key) if agent.api_key else None, model=agent.model
        )
        client = ChatClient(transport=transport, config=resolve_llm_config(settings, overrides))
        spec = agent_spec(name, agent, agent_ids.get(name))
        if agent.specialists:
            runners[name] = RouterAgent(
                spec,
                client=client,
                recorder=recorder,
                meter=meter,
                specialists=[runners[s] for s in agent.specialists],
            )
            continue
        definitions = [
            ToolDefinition(name=tool, description=tool.replace("_", " "), kind="builtin", builtin_name=tool)  # type: ignore[arg-type]
            for tool in agent.tools
        ] + [msgspec.convert({"kind": "http", **raw}, ToolDefinition) for raw in agent.http_tools]
        tools = build_tools(definitions, http=http, builtins=BuiltinDeps(knowledge=knowledge))
        runners[name] = Agent(spec, client=client, recorder=recorder, meter=meter, tools=tools)
    return runners
