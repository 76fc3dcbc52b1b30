"""The pipeline: one turn per inbound event, from hooks through the engine to delivery.

A turn's effects (new state, outbound messages with their seq, the inbound marked processed)
are committed together before anything is delivered, so a crash at any point either replays
the whole turn from the pending inbound row or has nothing left to do.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, final

import msgspec
import structlog

from runtime import metrics
from runtime.events import (
    AgentReply,
    Control,
    ConversationStarted,
    ConversationTimeout,
    HandoffChange,
    InboundLocation,
    InboundMedia,
    InboundMessage,
    InboundPostback,
    InboundStatus,
    InboundText,
    OutboundMessage,
    OutboundText,
    OutboundTyping,
    PipelineInput,
)
from runtime.hooks import Drop, HookContext, HookRegistry, Reply
from runtime.ids import new_id
from runtime.logging import get_logger
from runtime.ports import (
    ConversationSnapshot,
    ConversationStore,
    Delivery,
    EngineResult,
    HandoffDesk,
    Transcriber,
    TurnEngine,
    TurnRecord,
)

log = get_logger(__name__)

COMMIT_ATTEMPTS: Final = 3


@final
class Pipeline:
    """Runs turns; meant to be the handler of a LaneBus keyed by conversation id."""

    def __init__(
        self,
        *,
        store: ConversationStore,
        engine: TurnEngine,
        hooks: HookRegistry,
        delivery: Delivery,
        cache_size: int = 20_000,
        typing_after: float = 0.3,
        transcriber: Transcriber | None = None,
        desk: HandoffDesk | None = None,
        on_ended: Callable[[ConversationSnapshot], None] | None = None,
    ) -> None:
        self._transcriber = transcriber
        self._desk = desk
        self._on_ended = on_ended
        self._store = store
        self._engine = engine
        self._hooks = hooks
        self._delivery = delivery
        self._cache: OrderedDict[str, ConversationSnapshot] = OrderedDict()
        self._cache_size = cache_size
        self._typing_after = typing_after
        # Event ids queued or being handled, so a sweep for stranded messages skips them.
        self.in_flight: set[str] = set()

    def track(self, event: PipelineInput) -> None:
        """Marks an event as on its way through the bus (call before publishing it)."""
        self.in_flight.add(event.event_id)

    async def handle(self, event: PipelineInput) -> None:
        """Handles one event: a turn for messages and conversation starts."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            conversation_id=event.conversation_id, event_id=event.event_id, org_id=event.org_id
        )
        try:
            await self._handle(event)
        finally:
            self.in_flight.discard(event.event_id)

    async def _handle(self, event: PipelineInput) -> None:
        if isinstance(event, InboundStatus):
            return  # applied when committed to the inbox; nothing for the engine
        started = time.perf_counter()
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                outcome = await self._turn(event)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                # The snapshot may be stale after a failed commit; reload it next time.
                self._cache.pop(event.conversation_id, None)
                metrics.PIPELINE_ERRORS.labels(stage="turn").inc()
                if attempt == COMMIT_ATTEMPTS:
                    log.exception("turn.failed", attempts=attempt)
                    return
                log.warning("turn.retry", attempt=attempt, exc_info=True)
                await asyncio.sleep(0.05 * 2**attempt)
        duration = time.perf_counter() - started
        metrics.PIPELINE_LATENCY.observe(duration)
        log.debug("turn.done", outcome=outcome, duration_ms=round(duration * 1000, 2))

    async def _snapshot(self, event: PipelineInput) -> ConversationSnapshot | None:
        snapshot = self._cache.get(event.conversation_id)
        if snapshot is not None:
            self._cache.move_to_end(event.conversation_id)
            return snapshot
        snapshot = await self._store.load(event.org_id, event.conversation_id)
        if snapshot is not None:
            self._remember(snapshot)
        return snapshot

    def _remember(self, snapshot: ConversationSnapshot) -> None:
        self._cache[snapshot.conversation_id] = snapshot
        self._cache.move_to_end(snapshot.conversation_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _turn(self, event: ConversationStarted | InboundMessage | Control) -> str:
        snapshot = await self._snapshot(event)
        if snapshot is None:
            log.warning("turn.unknown_conversation")
            return "unknown_conversation"
        ctx = HookContext(
            org_id=snapshot.org_id,
            bot_id=snapshot.bot_id,
            bot_slug=self._engine.bot_slug(snapshot.bot_id),
            conversation_id=snapshot.conversation_id,
            channel_kind=snapshot.channel_kind,
            slots=dict(snapshot.state.get("slots", {})),
        )
        match event:
            case AgentReply():
                return await self._agent_reply(snapshot, event, ctx)
            case HandoffChange():
                return await self._handoff_change(snapshot, event, ctx)
            case ConversationTimeout():
                return await self._timeout(snapshot, ctx)
        if snapshot.status == "ended":
            # A message reached an ended conversation (a stale route): it starts over.
            snapshot = msgspec.structs.replace(snapshot, status="active", state={})
        if not snapshot.state:
            await self._hooks.notify("conversation_started", ctx)
        if isinstance(event, ConversationStarted):
            result = await self._engine.step(snapshot, event, ctx)
            return await self._commit(snapshot, ctx, result, inbound=None)
        transcript = await self._transcribe(event)
        said = _as_text(event, transcript) if transcript is not None else event
        if snapshot.status == "handoff":
            # A human has the conversation: the bot stays silent and the agents see the message.
            await self._store.commit_turn(
                TurnRecord(conversation=snapshot, inbound=event, outbound=(), transcript=transcript)
            )
            if self._desk is not None:
                await self._desk.user_message(snapshot, said, _text_of(said))
            return "to_human"
        hooked = await self._hooks.run_inbound(said, ctx)
        if isinstance(hooked, Drop):
            result = EngineResult(state=snapshot.state, messages=(), status=snapshot.status)
        elif isinstance(hooked, Reply):
            result = EngineResult(state=snapshot.state, messages=hooked.messages, status=snapshot.status)
        else:
            typing_timer = asyncio.get_running_loop().call_later(self._typing_after, self._send_typing, snapshot)
            try:
                result = await self._engine.step(snapshot, hooked, ctx)  # type: ignore[arg-type]
            finally:
                typing_timer.cancel()
        return await self._commit(snapshot, ctx, result, inbound=event, transcript=transcript)

    async def _commit(
        self,
        snapshot: ConversationSnapshot,
        ctx: HookContext,
        result: EngineResult,
        *,
        inbound: InboundMessage | None,
        transcript: str | None = None,
        handoff_closed: str | None = None,
    ) -> str:
        """Numbers, stores, then delivers a turn's messages; notes a new handoff request."""
        outbound: list[OutboundMessage] = []
        seq = snapshot.last_seq
        for message in result.messages:
            kept = await self._hooks.run_outbound(message, ctx)
            if kept is None:
                continue
            seq += 1
            outbound.append(msgspec.structs.replace(kept, seq=seq, recipient=snapshot.recipient))
        requested = result.status == "handoff" and snapshot.status != "handoff"
        updated = msgspec.structs.replace(snapshot, state=result.state, last_seq=seq, status=result.status)
        await self._store.commit_turn(
            TurnRecord(
                conversation=updated,
                inbound=inbound,
                outbound=tuple(outbound),
                transcript=transcript,
                handoff_requested=("bot", result.handoff_reason) if requested else None,
                handoff_closed=handoff_closed,
            )
        )
        self._remember(updated)
        for message in outbound:
            metrics.child(metrics.MESSAGES_OUT, message.channel_kind).inc()
            await self._delivery.deliver(message)
            await self._hooks.notify("sent", message, None, ctx)
        if requested:
            await self._hooks.notify("handoff", ctx)
            if self._desk is not None:
                await self._desk.requested(updated, result.handoff_reason, "bot")
        return f"replied:{len(outbound)}"

    async def _agent_reply(self, snapshot: ConversationSnapshot, event: AgentReply, ctx: HookContext) -> str:
        message = OutboundText(
            event_id=new_id(),
            org_id=snapshot.org_id,
            conversation_id=snapshot.conversation_id,
            channel_id=snapshot.channel_id,
            channel_kind=snapshot.channel_kind,
            ts=time.time(),
            text=event.text,
        )
        # An agent who answers a conversation the bot still has takes it over.
        status = "handoff" if snapshot.status != "ended" else "ended"
        result = EngineResult(state=snapshot.state, messages=(message,), status=status, handoff_reason="agent replied")
        return await self._commit(snapshot, ctx, result, inbound=None)

    async def _handoff_change(self, snapshot: ConversationSnapshot, event: HandoffChange, ctx: HookContext) -> str:
        if event.action == "take":
            if snapshot.status == "handoff":
                return "already_human"
            result = EngineResult(state=snapshot.state, messages=(), status="handoff", handoff_reason=event.reason)
            return await self._commit(snapshot, ctx, result, inbound=None)
        if snapshot.status != "handoff":
            return "not_handed_off"
        result = EngineResult(state=snapshot.state, messages=(), status="active")
        outcome = await self._commit(snapshot, ctx, result, inbound=None, handoff_closed="returned")
        if self._desk is not None:
            await self._desk.returned(msgspec.structs.replace(snapshot, status="active"), event.agent)
        return outcome

    async def _timeout(self, snapshot: ConversationSnapshot, ctx: HookContext) -> str:
        if snapshot.status == "ended":
            return "already_ended"
        closed = "abandoned" if snapshot.status == "handoff" else None
        result = EngineResult(state=snapshot.state, messages=(), status="ended")
        await self._commit(snapshot, ctx, result, inbound=None, handoff_closed=closed)
        self._cache.pop(snapshot.conversation_id, None)
        await self._hooks.notify("conversation_ended", ctx)
        if self._desk is not None:
            await self._desk.ended(snapshot)
        if self._on_ended is not None:
            self._on_ended(snapshot)
        return "ended"

    async def _transcribe(self, event: InboundMessage) -> str | None:
        if self._transcriber is None or not isinstance(event, InboundMedia):
            return None
        if event.media.kind not in ("audio", "voice"):
            return None
        try:
            return await self._transcriber.transcribe(event)
        except Exception as exc:  # noqa: BLE001 - a failed transcription leaves the media as media
            metrics.PIPELINE_ERRORS.labels(stage="transcribe").inc()
            log.warning("transcribe.failed", error=repr(exc))
            return None

    def _send_typing(self, snapshot: ConversationSnapshot) -> None:
        typing = OutboundTyping(
            event_id=new_id(),
            org_id=snapshot.org_id,
            conversation_id=snapshot.conversation_id,
            channel_id=snapshot.channel_id,
            channel_kind=snapshot.channel_kind,
            ts=time.time(),
        )
        task = asyncio.get_running_loop().create_task(self._delivery.deliver(typing), name="deliver-typing")
        _background.add(task)
        task.add_done_callback(_background.discard)


def _text_of(event: InboundMessage) -> str:
    match event:
        case InboundText(text=text):
            return text
        case InboundPostback(payload=payload, title=title):
            return title or payload
        case InboundMedia(media=media, text=text):
            return text or f"[{media.kind}]"
        case InboundLocation(latitude=lat, longitude=lon, name=name):
            return name or f"[location {lat},{lon}]"
    return ""


def _as_text(event: InboundMedia, text: str) -> InboundText:
    return InboundText(
        event_id=event.event_id,
        org_id=event.org_id,
        conversation_id=event.conversation_id,
        channel_id=event.channel_id,
        channel_kind=event.channel_kind,
        ts=event.ts,
        external_id=event.external_id,
        text=text,
    )


# Typing indicators are best effort; the set holds their tasks so none is garbage-collected.
_background: set[asyncio.Task[None]] = set()
