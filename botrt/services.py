"""Builds the running system in order and unwinds it in reverse."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from adapters.webchat.adapter import WebchatAdapter
from botrt.database import database_dsn
from engine.botfile import BotFile, load_bots
from engine.engine import BotEngine
from runtime.bus import LaneBus
from runtime.config import Settings
from runtime.events import Outbound, PipelineInput
from runtime.hooks import HookRegistry, load_entry_point_plugin
from runtime.logging import get_logger
from runtime.pipeline import Pipeline
from runtime.ports import ChannelRef
from storage.bots import ChannelSpec, sync_bot
from storage.conversations import PgConversationStore, PgInbox, PgWebchatStore
from storage.migrations import migrate, schema_files
from storage.pool import connect_admin, create_app_pool, register_admin_codecs
from storage.queries import QUERIES

log = get_logger(__name__)

RECOVERY_BATCH = 1000


@dataclass(slots=True)
class Runtime:
    """The assembled pieces the web application serves."""

    settings: Settings
    pool: asyncpg.Pool
    bus: LaneBus[PipelineInput]
    hooks: HookRegistry
    webchat: WebchatAdapter
    channels: dict[str, ChannelRef]
    expected_migrations: frozenset[str]


class _Delivery:
    """Routes outbound events to the adapter of their channel kind."""

    def __init__(self) -> None:
        self.adapters: dict[str, Any] = {}

    async def deliver(self, event: Outbound) -> None:
        adapter = self.adapters.get(event.channel_kind)
        if adapter is None:
            log.warning("delivery.no_adapter", channel_kind=event.channel_kind)
            return
        await adapter.deliver(event)


async def register_bots(dsn: str, bots: list[BotFile], engine: BotEngine) -> dict[str, ChannelRef]:
    """Writes the bots' rows and returns their channels by slug."""
    channels: dict[str, ChannelRef] = {}
    con = await connect_admin(dsn)
    try:
        await register_admin_codecs(con)
        for bot in bots:
            specs = bot.channel_specs()
            synced = await sync_bot(
                con,
                org_slug=bot.bot.org,
                bot_slug=bot.bot.slug,
                name=bot.bot.name,
                definition={"flow": _flow_json(bot), "plugins": bot.plugins, "path": bot.path},
                channels=[
                    ChannelSpec(kind=c.type, slug=c.slug, config={"allowed_origins": c.allowed_origins})
                    for c in specs
                ],
            )
            engine.add_bot(synced.bot_id, bot)
            for spec, raw, channel_id in zip(specs, bot.channels, synced.channel_ids, strict=True):
                channels[spec.slug] = ChannelRef(
                    channel_id=channel_id,
                    org_id=synced.org_id,
                    bot_id=synced.bot_id,
                    bot_slug=bot.bot.slug,
                    kind=spec.type,
                    slug=spec.slug,
                    config=raw,
                )
            log.info("bot.loaded", bot=bot.bot.slug, path=bot.path, channels=[c.slug for c in specs])
    finally:
        await con.close()
    return channels


def _flow_json(bot: BotFile) -> Any:
    import msgspec

    return msgspec.to_builtins(bot.flow)


async def migrate_database(dsn: str) -> None:
    con = await connect_admin(dsn)
    try:
        report = await migrate(con)
        await con.execute(QUERIES["tenancy/ensure_partitions"])
    finally:
        await con.close()
    log.info("migrations.done", applied=len(report.applied), already=report.already)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, hooks: HookRegistry | None = None, stop_embedded: bool = True
) -> AsyncIterator[Runtime]:
    """Database, migrations, bots, writers, bus, pipeline, adapters; torn down in reverse."""
    started = time.perf_counter()
    hooks = hooks or HookRegistry()
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(database_dsn(settings, stop_embedded=stop_embedded))
        await migrate_database(dsn)
        engine = BotEngine()
        bots = load_bots(Path(settings.bots))
        for bot in bots:
            for name in bot.plugins:
                hooks.register(load_entry_point_plugin(name))
        channels = await register_bots(dsn, bots, engine)
        pool = await create_app_pool(dsn, size=settings.db_pool_size)
        stack.push_async_callback(pool.close)

        linger = settings.commit_delay_ms / 1000
        inbox = PgInbox(pool, max_batch=settings.commit_batch_size, linger=linger)
        store = PgConversationStore(pool, max_batch=settings.commit_batch_size, linger=linger)
        inbox.start()
        store.start()
        stack.push_async_callback(store.stop)
        stack.push_async_callback(inbox.stop)

        delivery = _Delivery()
        pipeline = Pipeline(store=store, engine=engine, hooks=hooks, delivery=delivery)
        bus: LaneBus[PipelineInput] = LaneBus(
            handler=pipeline.handle, lanes=settings.lanes, queue_size=settings.lane_queue_size, name="pipeline"
        )
        webchat = WebchatAdapter(
            channels=channels, store=PgWebchatStore(pool), inbox=inbox, publish=bus.publish
        )
        delivery.adapters[webchat.kind] = webchat
        hooks.freeze()
        await hooks.notify("startup")
        bus.start()
        stack.push_async_callback(bus.stop)

        async def drain() -> None:
            await bus.drain(settings.drain_timeout)

        stack.push_async_callback(drain)
        stack.push_async_callback(hooks.notify, "shutdown")

        recovered = 0
        for org_id in {c.org_id for c in channels.values()}:
            for event in await store.pending_inbound(org_id, RECOVERY_BATCH):
                await bus.publish(event.conversation_id, event)
                recovered += 1
        log.info(
            "runtime.ready",
            bots=len(bots),
            channels=len(channels),
            recovered=recovered,
            startup_ms=round((time.perf_counter() - started) * 1000),
        )
        yield Runtime(
            settings=settings,
            pool=pool,
            bus=bus,
            hooks=hooks,
            webchat=webchat,
            channels=channels,
            expected_migrations=frozenset(p.name for p in schema_files()),
        )
