"""The engine: the TurnEngine port over the flows of the loaded bots."""

from __future__ import annotations

import time
import uuid
from typing import final

from engine.botfile import BotFile
from engine.flow import FlowRunner, Said, TurnOutput, UserInput
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
from runtime.ports import ConversationSnapshot, EngineResult


@final
class BotEngine:
    """Runs each bot's flow; bots are registered by id once their rows exist."""

    def __init__(self) -> None:
        self._runners: dict[str, FlowRunner] = {}
        self._slugs: dict[str, str] = {}

    def add_bot(self, bot_id: str, bot: BotFile) -> None:
        self._runners[bot_id] = FlowRunner(bot.flow)
        self._slugs[bot_id] = bot.bot.slug

    def bot_slug(self, bot_id: str) -> str:
        return self._slugs.get(bot_id, "")

    async def step(
        self,
        snapshot: ConversationSnapshot,
        event: InboundMessage | ConversationStarted,
        ctx: HookContext,
    ) -> EngineResult:
        runner = self._runners.get(snapshot.bot_id)
        if runner is None:
            return EngineResult(state=snapshot.state, messages=(), status=snapshot.status)
        state = snapshot.state
        if isinstance(event, ConversationStarted):
            output = runner.start()
        else:
            if not state:
                # A conversation's first message starts the flow. If the flow opens by greeting or
                # asking, that is the answer; if it opens with a silent question, the message answers it.
                output = runner.start()
                if output.said:
                    return self._result(snapshot, output)
                state = output.state
            match event:
                case InboundText(text=text):
                    output = runner.handle(state, UserInput(text=text))
                case InboundPostback(payload=payload, title=title):
                    output = runner.handle(state, UserInput(text=title or payload, payload=payload))
                case InboundMedia(text=text):
                    output = runner.handle(state, UserInput(text=text or ""))
                case InboundLocation(latitude=lat, longitude=lon, name=name):
                    output = runner.handle(state, UserInput(text=name or f"{lat},{lon}"))
        return self._result(snapshot, output)

    def _result(self, snapshot: ConversationSnapshot, output: TurnOutput) -> EngineResult:
        return EngineResult(
            state=output.state,
            messages=tuple(self._message(snapshot, said) for said in output.said),
            status=snapshot.status,
        )

    @staticmethod
    def _message(snapshot: ConversationSnapshot, said: Said) -> OutboundText:
        return OutboundText(
            event_id=str(uuid.uuid4()),
            org_id=snapshot.org_id,
            conversation_id=snapshot.conversation_id,
            channel_id=snapshot.channel_id,
            channel_kind=snapshot.channel_kind,
            ts=time.time(),
            text=said.text,
            buttons=said.buttons,
        )
