"""What happens to each NLU result: plugins may rewrite it (understood hook), then it is logged."""

from __future__ import annotations

from typing import Any, final

import msgspec

from runtime.hooks import HookContext, HookRegistry
from runtime.logging import get_logger
from runtime.ports import ConversationSnapshot
from storage.nlu import PgPredictionLog, Prediction

log = get_logger(__name__)


@final
class Understood:
    """BotEngine's on_understood callback."""

    def __init__(self, hooks: HookRegistry, prediction_log: PgPredictionLog | None = None) -> None:
        self._hooks = hooks
        self.log = prediction_log

    async def handle(self, snapshot: ConversationSnapshot, event: Any, understanding: Any, ctx: HookContext) -> Any:
        understanding = await self._hooks.run_understood(event, understanding, ctx)
        if self.log is not None:
            try:
                await self.log.log(
                    Prediction(
                        org_id=snapshot.org_id,
                        bot_id=snapshot.bot_id,
                        conversation_id=snapshot.conversation_id,
                        message_id=event.event_id,
                        text=understanding.text,
                        intent=understanding.intent,
                        confidence=understanding.confidence,
                        entities=msgspec.to_builtins(list(understanding.entities)),
                        ranking=msgspec.to_builtins(list(understanding.ranking)),
                    )
                )
            except Exception as exc:  # noqa: BLE001 - a lost log line must not cost the user a reply
                log.warning("nlu.log_failed", error=repr(exc))
        return understanding
