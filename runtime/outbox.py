"""The outbox: every stored outbound message reaches its platform, or a dead letter.

Messages arrive here only after their rows are committed as pending. Sends run in lanes keyed
by channel and recipient, so one recipient's messages keep their order while recipients go
in parallel; token buckets hold the documented per-channel and per-recipient rates; failures
retry with jittered exponential backoff, a 429's Retry-After pauses the channel, and after the
last attempt (or a permanent refusal) the message is marked failed with an audit row.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Protocol, final

import msgspec

from runtime import metrics
from runtime.bus import LaneBus
from runtime.errors import ChannelError
from runtime.events import OutboundMessage, OutboundTyping
from runtime.logging import get_logger
from runtime.ratelimit import BucketMap, TokenBucket

log = get_logger(__name__)

WHATSAPP_WINDOW_S: Final = 24 * 3600


class Sender(Protocol):
    """What the outbox needs of an adapter (adapters.base.ChannelAdapter fits)."""

    kind: ClassVar[str]

    async def send(self, recipient: str, message: OutboundMessage) -> Any: ...

    async def typing(self, recipient: str) -> None: ...


class OutboxStore(Protocol):
    async def mark_sent(self, message: OutboundMessage, provider_ids: Sequence[str], note: str | None) -> None: ...

    async def mark_failed(self, message: OutboundMessage, reason: str) -> None: ...

    async def pending_outbound(self, org_id: str, limit: int) -> Sequence[OutboundMessage]: ...

    async def last_inbound_at(self, org_id: str, conversation_id: str) -> float | None: ...


class ChannelSending(msgspec.Struct, kw_only=True):
    """A channel's sender with its rates and, for WhatsApp, the template for outside the window."""

    sender: Any
    per_channel: float
    per_recipient: float
    burst: int = 1
    # Seconds after the user's last message during which free-form messages are allowed.
    service_window: float | None = None
    template: tuple[str, str] | None = None  # (name, language)


@final
class _Channel:
    def __init__(self, config: ChannelSending) -> None:
        self.config = config
        self.bucket = TokenBucket(config.per_channel, max(config.burst, 1))
        self.recipients = BucketMap(config.per_recipient, max(config.burst, 1))


@final
class Outbox:
    """Sends outbound messages of push channels; webchat never comes here."""

    def __init__(
        self,
        *,
        store: OutboxStore,
        channels: Mapping[str, ChannelSending],
        max_attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 60.0,
        lanes: int = 64,
        queue_size: int = 512,
    ) -> None:
        self._store = store
        self._channels = {channel_id: _Channel(c) for channel_id, c in channels.items()}
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._last_inbound: dict[str, float] = {}
        self._bus: LaneBus[OutboundMessage] = LaneBus(
            handler=self._send, lanes=lanes, queue_size=queue_size, name="outbox"
        )
        self._typing: set[asyncio.Task[None]] = set()

    def handles(self, channel_id: str) -> bool:
        return channel_id in self._channels

    def saw_inbound(self, conversation_id: str, ts: float) -> None:
        """Keeps the last user message time per conversation (the WhatsApp window)."""
        self._last_inbound[conversation_id] = ts

    def start(self) -> None:
        self._bus.start()

    async def stop(self, timeout: float) -> None:
        await self._bus.drain(timeout)
        await self._bus.stop()

    async def deliver(self, event: OutboundMessage | OutboundTyping) -> None:
        channel = self._channels.get(event.channel_id)
        if channel is None:
            log.warning("outbox.unknown_channel", channel_id=event.channel_id)
            return
        if isinstance(event, OutboundTyping):
            task = asyncio.create_task(self._typing_once(channel, event), name="outbox-typing")
            self._typing.add(task)
            task.add_done_callback(self._typing.discard)
            return
        await self._bus.publish(f"{event.channel_id}:{event.recipient}", event)

    async def resume(self, org_ids: Sequence[str], limit: int = 10_000) -> int:
        """Queues every pending outbound message left by an earlier run."""
        count = 0
        for org_id in org_ids:
            for message in await self._store.pending_outbound(org_id, limit):
                if self.handles(message.channel_id):
                    await self.deliver(message)
                    count += 1
        return count

    async def _typing_once(self, channel: _Channel, event: OutboundTyping) -> None:
        recipient = getattr(event, "recipient", "")
        try:
            await channel.config.sender.typing(recipient)
        except Exception as exc:  # noqa: BLE001 - typing is best effort
            log.debug("outbox.typing_failed", error=repr(exc))

    async def _outside_window(self, channel: _Channel, message: OutboundMessage) -> bool:
        window = channel.config.service_window
        if window is None:
            return False
        last = self._last_inbound.get(message.conversation_id)
        if last is None:
            last = await self._store.last_inbound_at(message.org_id, message.conversation_id)
            if last is not None:
                self._last_inbound[message.conversation_id] = last
        return last is None or time.time() - last > window

    async def _send(self, message: OutboundMessage) -> None:
        channel = self._channels[message.channel_id]
        if await self._outside_window(channel, message):
            await self._send_template(channel, message)
            return
        await self._attempt(channel, message, lambda: channel.config.sender.send(message.recipient, message))

    async def _send_template(self, channel: _Channel, message: OutboundMessage) -> None:
        template = channel.config.template
        if template is None:
            await self._dead(message, "outside the 24-hour customer-service window and no template_name configured")
            return
        name, language = template
        await self._attempt(
            channel,
            message,
            lambda: channel.config.sender.send_template(message.recipient, name, language),
            note=f"template {name} sent instead: outside the 24-hour window",
        )

    async def _attempt(self, channel: _Channel, message: OutboundMessage, call: Any, note: str | None = None) -> None:
        recipient_bucket = channel.recipients.get(message.recipient)
        for attempt in range(1, self._max_attempts + 1):
            await channel.bucket.acquire()
            await recipient_bucket.acquire()
            try:
                result = await call()
            except asyncio.CancelledError:
                raise
            except ChannelError as exc:
                if exc.outside_service_window and note is None:
                    await self._send_template(channel, message)
                    return
                if not exc.retryable:
                    await self._dead(message, str(exc))
                    return
                delay = self._backoff(attempt, exc.retry_after)
                if exc.retry_after is not None:
                    channel.bucket.pause(exc.retry_after)
                log.info("outbox.retry", attempt=attempt, delay_s=round(delay, 3), error=str(exc))
            except Exception as exc:  # noqa: BLE001 - an adapter bug: retry, then dead-letter
                delay = self._backoff(attempt, None)
                log.warning("outbox.send_error", attempt=attempt, error=repr(exc))
            else:
                provider_ids = tuple(getattr(result, "provider_ids", ()) or ())
                await self._store.mark_sent(message, provider_ids, note)
                metrics.child(metrics.MESSAGES_SENT, channel.config.sender.kind).inc()
                return
            if attempt < self._max_attempts:
                await asyncio.sleep(delay)
        await self._dead(message, f"gave up after {self._max_attempts} attempts")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        # Full jitter (AWS architecture blog): spreads retries of many senders apart.
        return random.uniform(0, min(self._max_delay, self._base_delay * 2 ** (attempt - 1)))

    async def _dead(self, message: OutboundMessage, reason: str) -> None:
        metrics.child(metrics.MESSAGES_DEAD, message.channel_kind).inc()
        log.warning("outbox.dead_letter", message_id=message.event_id, reason=reason)
        await self._store.mark_failed(message, reason)
