"""The engine: the TurnEngine port over the flows of the loaded bots."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import final

from engine.botfile import BotFile
from engine.flow import BotFlows, HttpCaller, NodeServices, Said, TurnContext, TurnOutput, UserInput
from engine.nlu import Nlu, Understanding
from runtime.events import (
    ConversationStarted,
    InboundLocation,
    InboundMedia,
    InboundMessage,
    InboundPostback,
    InboundText,
    OutboundText,
)
from runtime.hooks import HookContext
from runtime.ids import new_id
from runtime.ports import ConversationSnapshot, EngineResult


@final
class BotEngine:
    """Runs each bot's flow; bots are registered by id once their rows exist."""

    def __init__(
        self,
        *,
        services: NodeServices | None = None,
        http: HttpCaller | None = None,
        on_understood: Callable[[ConversationSnapshot, InboundMessage, Understanding, HookContext], Awaitable[Understanding]]
        | None = None,
    ) -> None:
        # Called with each message's NLU result: logs it and lets plugins rewrite it.
        self.on_understood = on_understood
        self._flows: dict[str, BotFlows] = {}
        self._nlu: dict[str, Nlu] = {}
        self._slugs: dict[str, str] = {}
        self._services = services
        self._http = http

    def add_bot(self, bot_id: str, bot: BotFile, *, version: int | None = None) -> None:
        """Loads (another version of) a bot; conversations already running keep their version."""
        flows = self._flows.setdefault(bot_id, BotFlows(services=self._services, http=self._http))
        flows.add(bot.flow.version if version is None else version, bot.flow)
        self._slugs[bot_id] = bot.bot.slug
        if bot.nlu is not None:
            self._nlu[bot_id] = Nlu.lexical(bot.nlu)

    def set_nlu(self, bot_id: str, nlu: Nlu) -> None:
        """Replaces a bot's NLU, e.g. with one built on an embedder (Nlu.build)."""
        self._nlu[bot_id] = nlu

    def flows(self, bot_id: str) -> BotFlows | None:
        """The loaded versions of a bot's flow."""
        return self._flows.get(bot_id)

    def bot_slug(self, bot_id: str) -> str:
        return self._slugs.get(bot_id, "")

    async def understand(self, bot_id: str, text: str, payload: str | None = None) -> Understanding | None:
        """The bot's NLU result for a message; None when the bot has no [nlu] table."""
        nlu = self._nlu.get(bot_id)
        flows = self._flows.get(bot_id)
        if nlu is None or flows is None:
            return None
        # Relative dates ("tomorrow") are resolved in the flow's time zone.
        return await nlu.understand(text, payload=payload, today=flows.current.now().date())

    async def step(
        self,
        snapshot: ConversationSnapshot,
        event: InboundMessage | ConversationStarted,
        ctx: HookContext,
    ) -> EngineResult:
        flows = self._flows.get(snapshot.bot_id)
        if flows is None:
            return EngineResult(state=snapshot.state, messages=(), status=snapshot.status)
        runner = flows.runner_for(snapshot.state)
        turn = TurnContext(
            channel=snapshot.channel_kind,
            conversation_id=snapshot.conversation_id,
            bot_id=snapshot.bot_id,
            org_id=snapshot.org_id,
        )
        match event:
            case ConversationStarted():
                return self._result(snapshot, await runner.start(context=turn))
            case InboundText(text=text):
                said = UserInput(text=text)
            case InboundPostback(payload=payload, title=title):
                said = UserInput(text=title or payload, payload=payload)
            case InboundMedia(text=text):
                said = UserInput(text=text or "")
            case InboundLocation(latitude=lat, longitude=lon, name=name):
                said = UserInput(text=name or f"{lat},{lon}")
        if said.text or said.payload:
            understanding = await self.understand(snapshot.bot_id, said.text, said.payload)
            if understanding is not None and self.on_understood is not None:
                understanding = await self.on_understood(snapshot, event, understanding, ctx)
            said = UserInput(text=said.text, payload=said.payload, understanding=understanding)
        if not snapshot.state:
            # The first message starts the flow: a router routes it, a silent opening question
            # (an ask without prompt) takes it as the answer, anything else greets or asks first.
            return self._result(snapshot, await runner.start(said, turn))
        return self._result(snapshot, await runner.handle(snapshot.state, said, turn))

    def _result(self, snapshot: ConversationSnapshot, output: TurnOutput) -> EngineResult:
        return EngineResult(
            state=output.state,
            messages=tuple(self._message(snapshot, said) for said in output.said),
            status=output.status,
            handoff_reason=output.handoff.reason if output.handoff is not None else None,
        )

    @staticmethod
    def _message(snapshot: ConversationSnapshot, said: Said) -> OutboundText:
        return OutboundText(
            event_id=new_id(),
            org_id=snapshot.org_id,
            conversation_id=snapshot.conversation_id,
            channel_id=snapshot.channel_id,
            channel_kind=snapshot.channel_kind,
            ts=time.time(),
            text=said.text,
            buttons=said.buttons,
        )
