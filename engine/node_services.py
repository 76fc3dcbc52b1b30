"""NodeServices for flows: knowledge answers and agent turns, with streaming to the widget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, final

from engine.agents import AgentTurn, ChatMessage
from engine.flow import AgentReply, NodeCall, Said
from engine.flowspec import AgentNode, KnowledgeNode
from runtime.logging import get_logger

log = get_logger(__name__)

# (conversation context, token text) -> None: shows tokens as they arrive where the channel can.
DeltaSink = Callable[[NodeCall, str], Awaitable[None]]


class KnowledgeAnswers(Protocol):
    """What a knowledge node needs: the best passages as reply text with citations."""

    async def answer_texts(self, query: str, *, org_id: str, bot_id: str, limit: int) -> Sequence[str]: ...


class TurnRunner(Protocol):
    async def run(self, turn: AgentTurn, *, on_delta: Any = None, hooks: Any = None, parent_run_id: str | None = None) -> Any: ...


def _history(call: NodeCall, text: str) -> tuple[ChatMessage, ...]:
    """The flow's recent messages as chat messages (the flow keeps {role, text}).

    The flow has already noted the message being answered; the agent gets that one as its turn.
    """
    items = list(call.history)
    if items and items[-1].get("role") == "user" and items[-1].get("text") == text[:1000]:
        items.pop()
    messages = []
    for item in items:
        role = "assistant" if item.get("role") in ("bot", "assistant") else "user"
        messages.append(ChatMessage(role=role, content=item.get("text", "")))
    return tuple(messages)


@final
class EngineServices:
    """Implements engine.flow's NodeServices over the bots' agents and the knowledge base."""

    def __init__(
        self,
        *,
        agents: Mapping[str, Mapping[str, TurnRunner]] | None = None,
        knowledge: KnowledgeAnswers | None = None,
        stream: DeltaSink | None = None,
    ) -> None:
        self.agents: dict[str, Mapping[str, TurnRunner]] = dict(agents or {})
        self.knowledge = knowledge
        # The agents' knowledge_search tool (engine.agents.KnowledgeSearch), when there is one.
        self.knowledge_search: Any = None
        # Plugin hooks around each agent turn (before_agent, after_agent, tool_call, error).
        self.hooks_for: Callable[[NodeCall], Any] | None = None
        self.stream = stream

    async def knowledge_answer(self, query: str, node: KnowledgeNode, call: NodeCall) -> list[Said]:
        if self.knowledge is None or not query.strip():
            return []
        texts = await self.knowledge.answer_texts(
            query, org_id=call.context.org_id, bot_id=call.context.bot_id, limit=node.top_k
        )
        return [Said(text) for text in texts]

    async def agent_turn(self, node: AgentNode, text: str, call: NodeCall) -> AgentReply:
        runner = self.agents.get(call.context.bot_id, {}).get(node.agent)
        if runner is None:
            # No LLM configured for this agent: the flow goes on without it.
            log.info("agent.unavailable", agent=node.agent)
            return AgentReply(outcome="done")
        turn = AgentTurn(
            org_id=call.context.org_id,
            bot_id=call.context.bot_id,
            conversation_id=call.context.conversation_id,
            text=text,
            history=_history(call, text),
            slots=dict(call.slots),
            intent=call.understanding.intent if call.understanding else None,
            channel=call.context.channel,
        )
        on_delta = None
        if self.stream is not None:
            stream = self.stream

            async def on_delta(token: str) -> None:
                await stream(call, token)

        hooks = self.hooks_for(call) if self.hooks_for is not None else None
        response = await runner.run(turn, on_delta=on_delta, hooks=hooks)
        said = [Said(response.text)] if response.text else []
        if response.handoff is not None:
            return AgentReply(said=said, outcome="handoff", slots=response.slots, reason=response.handoff)
        if response.ended:
            return AgentReply(said=said, outcome="end", slots=response.slots)
        return AgentReply(said=said, outcome="continue", slots=response.slots)
