"""The NLU predictions log, written through group commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, final

import asyncpg
import msgspec

from storage.batch import GroupCommitter
from storage.queries import QUERIES
from storage.tenancy import per_org

_JSON = msgspec.json.Encoder()


class Prediction(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    bot_id: str
    conversation_id: str
    message_id: str
    text: str
    intent: str
    confidence: float
    entities: list[dict[str, Any]]
    ranking: list[dict[str, Any]]


async def _flush(con: asyncpg.Connection, items: Sequence[Prediction]) -> Sequence[None]:
    async for _org_id, group in per_org(con, items, lambda item: item.org_id):
        await con.execute(
            QUERIES["nlu/insert_predictions"],
            [p.org_id for p in group],
            [p.bot_id for p in group],
            [p.conversation_id for p in group],
            [p.message_id for p in group],
            [p.text for p in group],
            [p.intent for p in group],
            [min(1.0, max(0.0, p.confidence)) for p in group],
            [_JSON.encode(p.entities).decode() for p in group],
            [_JSON.encode(p.ranking).decode() for p in group],
        )
    return [None] * len(items)


@final
class PgPredictionLog:
    """Logs each understood message; the turn waits for nothing but the queue."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._writer: GroupCommitter[Prediction, None] = GroupCommitter(pool=pool, flush=_flush, name="nlu")

    def start(self) -> None:
        self._writer.start()

    async def stop(self) -> None:
        await self._writer.stop()

    async def log(self, prediction: Prediction) -> None:
        await self._writer.submit(prediction)
