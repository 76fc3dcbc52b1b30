"""Builds the running system in order and unwinds it in reverse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from adapters.platform_http import PlatformHttp
from adapters.webchat.adapter import WebchatAdapter
from botrt.agent_hooks import agent_hooks
from botrt.channels import SECRET_KEYS, build_adapter, redacted, sending_for
from botrt.database import database_dsn
from botrt.desk import AgentDesk
from botrt.ingress import Ingress
from botrt.llm_transport import AiohttpTransport
from botrt.understanding import Understood
from botrt.voice_notes import VoiceNoteTranscriber
from engine.agent_setup import build_agents
from engine.botfile import BotFile, load_bots, resolve_env
from engine.embeddings import Embedder, SentenceTransformerEmbedder, load_embedding_settings, pick_embedder
from engine.engine import BotEngine
from engine.flowspec import parse_flow
from engine.knowledge import KnowledgeService
from engine.node_services import EngineServices
from engine.speech import WhisperTranscriber, default_model
from runtime.bus import LaneBus
from runtime.config import Settings
from runtime.errors import ConfigError
from runtime.events import ConversationTimeout, Outbound, OutboundDelta, PipelineInput
from runtime.hooks import HookRegistry, load_entry_point_plugin
from runtime.ids import new_id
from runtime.logging import get_logger
from runtime.outbox import Outbox
from runtime.pipeline import Pipeline
from runtime.ports import ChannelRef
from storage.agents import PgAgentRecorder, PgUsageMeter, sync_agent
from storage.bots import ChannelSpec, publish_flow, store_channel_secrets, sync_bot
from storage.conversations import PgConversationStore, PgInbox, PgWebchatStore
from storage.delivery import PgContactDirectory, PgOutboxStore
from storage.handoffs import idle_conversations
from storage.knowledge import PgKnowledgeStore
from storage.maintenance import maintain
from storage.migrations import migrate, schema_files
from storage.nlu import PgPredictionLog
from storage.pool import connect_admin, create_app_pool, register_admin_codecs
from storage.queries import QUERIES
from storage.secrets import SecretBox, load_secret_box
from storage.warmup import warm_up

log = get_logger(__name__)

RECOVERY_BATCH = 1000
SWEEP_INTERVAL_S = 10.0
MAINTENANCE_INTERVAL_S = 6 * 3600.0
# Channels whose adapters can fetch a voice note: Telegram getFile, Graph's media API, Slack's
# url_private with the bot token (files:read).
VOICE_NOTE_KINDS = frozenset({"telegram", "whatsapp", "slack"})


@dataclass(slots=True)
class Runtime:
    """The assembled pieces the web application serves."""

    settings: Settings
    pool: asyncpg.Pool
    bus: LaneBus[PipelineInput]
    hooks: HookRegistry
    webchat: WebchatAdapter
    ingress: Ingress
    desk: AgentDesk
    channels: dict[str, ChannelRef]
    expected_migrations: frozenset[str]


class _Delivery:
    """Routes outbound events: widget sockets for webchat, the outbox for platforms."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.webchat: WebchatAdapter | None = None

    async def deliver(self, event: Outbound) -> None:
        if event.channel_kind == "webchat":
            if self.webchat is not None:
                await self.webchat.deliver(event)
        elif isinstance(event, OutboundDelta):
            return  # chat platforms get the final message, never a burst of fragments
        elif self.outbox.handles(event.channel_id):
            await self.outbox.deliver(event)
        else:
            log.warning("delivery.no_adapter", channel_kind=event.channel_kind)


class RegisteredBots(msgspec.Struct, kw_only=True):
    channels: dict[str, ChannelRef]
    # bot id -> (bot file, agent name -> agent row id)
    bots: dict[str, tuple[BotFile, dict[str, str]]]
    orgs: dict[str, str]  # bot id -> organization id


async def register_bots(dsn: str, bots: list[BotFile], engine: BotEngine, box: SecretBox) -> RegisteredBots:
    """Writes the bots' rows (flow versions, agents, channel secrets sealed) and loads their flows."""
    channels: dict[str, ChannelRef] = {}
    registered: dict[str, tuple[BotFile, dict[str, str]]] = {}
    orgs: dict[str, str] = {}
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
                definition={"plugins": bot.plugins, "path": bot.path, "agents": sorted(bot.agents)},
                channels=[
                    ChannelSpec(kind=spec.type, slug=spec.slug, config=redacted(raw))
                    for spec, raw in zip(specs, bot.channels, strict=True)
                ],
            )
            graph = msgspec.to_builtins(bot.flow)
            version, older = await publish_flow(
                con, org_id=synced.org_id, bot_id=synced.bot_id, graph=graph, source=bot.path
            )
            engine.add_bot(synced.bot_id, bot, version=version)
            flows = engine.flows(synced.bot_id)
            for stored in older:
                # Conversations started on an older version finish on it.
                try:
                    flows.add(stored.version, parse_flow(stored.graph), publish=False)  # type: ignore[union-attr]
                except Exception as exc:  # noqa: BLE001 - an old graph that no longer parses is skipped
                    log.warning("flow.version_skipped", bot=bot.bot.slug, version=stored.version, error=str(exc))
            agent_ids: dict[str, str] = {}
            async with con.transaction():
                for name, agent in bot.agents.items():
                    agent_ids[name] = await sync_agent(
                        con,
                        org_id=synced.org_id,
                        bot_id=synced.bot_id,
                        name=name,
                        role="router" if agent.specialists else "standalone",
                        settings=msgspec.to_builtins(agent),
                    )
            registered[synced.bot_id] = (bot, agent_ids)
            orgs[synced.bot_id] = synced.org_id
            for spec, raw, channel_id in zip(specs, bot.channels, synced.channel_ids, strict=True):
                secrets = {k: str(v) for k, v in resolve_env(raw).items() if k in SECRET_KEYS and v}
                if secrets:
                    await store_channel_secrets(
                        con, box, org_id=synced.org_id, channel_id=channel_id, secrets=secrets
                    )
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
    return RegisteredBots(channels=channels, bots=registered, orgs=orgs)


async def migrate_database(dsn: str) -> None:
    con = await connect_admin(dsn)
    try:
        report = await migrate(con)
        await con.execute(QUERIES["tenancy/ensure_partitions"])
    finally:
        await con.close()
    log.info("migrations.done", applied=len(report.applied), already=report.already)


async def _sweep_stranded(
    store: PgConversationStore, pipeline: Pipeline, publish: Any, org_ids: list[str], interval: float
) -> None:
    """Republishes committed messages that never reached a lane (full lanes, failed turns)."""
    while True:
        await asyncio.sleep(interval)
        for org_id in org_ids:
            try:
                stranded = await store.pending_inbound(org_id, RECOVERY_BATCH, min_age=interval)
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                log.warning("sweep.failed", error=repr(exc))
                continue
            for event in stranded:
                if event.event_id not in pipeline.in_flight:
                    await publish(event.conversation_id, event)


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
        http = await stack.enter_async_context(
            # No cookie jar: platform APIs authenticate by token, and one jar shared by every
            # tenant's flows would carry one conversation's cookies into another's calls.
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=15, connect=5), cookie_jar=aiohttp.DummyCookieJar()
            )
        )
        transport = AiohttpTransport(session=http)
        node_services = EngineServices()
        engine = BotEngine(services=node_services, http=transport)
        understood = Understood(hooks)
        engine.on_understood = understood.handle
        bots = load_bots(Path(settings.bots))
        for bot in bots:
            for name in bot.plugins:
                hooks.register(load_entry_point_plugin(name))
        box = load_secret_box(settings.secret_key, Path(settings.data_dir))
        registered = await register_bots(dsn, bots, engine, box)
        channels = registered.channels
        api = PlatformHttp()
        stack.push_async_callback(api.close)
        platform: dict[str, tuple[ChannelRef, Any]] = {
            slug: (ref, build_adapter(ref.kind, ref.config, http, api))
            for slug, ref in channels.items()
            if ref.kind not in ("webchat", "voice")
        }
        pool = await create_app_pool(dsn, size=settings.db_pool_size)
        stack.push_async_callback(pool.close)
        await warm_up(pool)

        linger = settings.commit_delay_ms / 1000
        knowledge = KnowledgeService(PgKnowledgeStore(pool), _embedder(transport))
        stack.callback(knowledge.close)
        node_services.knowledge = knowledge
        node_services.knowledge_search = knowledge
        await _ingest_sources(knowledge, registered)
        _build_agents(settings, registered, node_services, transport, pool)
        node_services.hooks_for = agent_hooks(hooks, engine.bot_slug)
        inbox = PgInbox(pool, max_batch=settings.commit_batch_size, linger=linger)
        store = PgConversationStore(pool, max_batch=settings.commit_batch_size, linger=linger)
        outbox_store = PgOutboxStore(pool, max_batch=settings.commit_batch_size, linger=linger)
        predictions = PgPredictionLog(pool)
        understood.log = predictions
        for writer in (inbox, store, outbox_store, predictions):
            writer.start()
            stack.push_async_callback(writer.stop)

        outbox = Outbox(
            store=outbox_store,
            lanes=settings.lanes,
            channels={ref.channel_id: sending_for(adapter, ref.config) for ref, adapter in platform.values()},
        )
        delivery = _Delivery(outbox)
        transcriber = _voice_notes(settings, platform, http)
        contacts = PgContactDirectory(pool, max_batch=settings.commit_batch_size, linger=linger)
        contacts.start()
        stack.push_async_callback(contacts.stop)
        org_ids = sorted({c.org_id for c in channels.values()})

        async def publish_control(key: str, event: PipelineInput) -> None:
            await publish(key, event)  # defined below, once the pipeline exists

        desk = AgentDesk(token=settings.admin_token, pool=pool, publish=publish_control, org_ids=org_ids)
        pipeline = Pipeline(
            store=store,
            engine=engine,
            hooks=hooks,
            delivery=delivery,
            transcriber=transcriber,
            desk=desk,
            on_ended=lambda snapshot: contacts.forget(snapshot.channel_id, snapshot.recipient),
        )
        bus: LaneBus[PipelineInput] = LaneBus(
            handler=pipeline.handle, lanes=settings.lanes, queue_size=settings.lane_queue_size, name="pipeline"
        )

        async def publish(key: str, event: PipelineInput) -> None:
            pipeline.track(event)
            try:
                await bus.publish(key, event)
            except BaseException:
                pipeline.in_flight.discard(event.event_id)
                raise

        webchat = WebchatAdapter(channels=channels, store=PgWebchatStore(pool), inbox=inbox, publish=publish)
        delivery.webchat = webchat

        async def stream_tokens(call: Any, token: str) -> None:
            if call.context.channel == "webchat":
                await webchat.deliver(
                    OutboundDelta(
                        event_id=new_id(),
                        org_id=call.context.org_id,
                        conversation_id=call.context.conversation_id,
                        channel_id="",
                        channel_kind="webchat",
                        ts=time.time(),
                        text=token,
                    )
                )

        node_services.stream = stream_tokens
        capacity = settings.lanes * settings.lane_queue_size
        ingress = Ingress(
            channels=platform,
            contacts=contacts,
            inbox=inbox,
            publish=publish,
            saturated=lambda: bus.depth() >= 0.9 * capacity,
            public_url=settings.base_url,
            on_inbound=outbox.saw_inbound,
        )
        hooks.freeze()
        await hooks.notify("startup")
        outbox.start()
        stack.push_async_callback(outbox.stop, settings.drain_timeout)
        bus.start()
        stack.push_async_callback(bus.stop)

        async def drain() -> None:
            await bus.drain(settings.drain_timeout)

        stack.push_async_callback(drain)
        stack.push_async_callback(hooks.notify, "shutdown")

        recovered = 0
        for org_id in org_ids:
            for event in await store.pending_inbound(org_id, RECOVERY_BATCH):
                await publish(event.conversation_id, event)
                recovered += 1
        resumed = await outbox.resume(org_ids)
        sweeper = asyncio.create_task(
            _sweep_stranded(store, pipeline, publish, org_ids, SWEEP_INTERVAL_S), name="sweep-stranded"
        )
        stack.push_async_callback(_cancel, sweeper)
        maintainer = asyncio.create_task(_maintain_periodically(dsn, MAINTENANCE_INTERVAL_S), name="maintenance")
        stack.push_async_callback(_cancel, maintainer)
        idler = asyncio.create_task(
            _end_idle(pool, publish, org_ids, settings.idle_timeout), name="end-idle-conversations"
        )
        stack.push_async_callback(_cancel, idler)
        stack.push_async_callback(desk.close)
        log.info(
            "runtime.ready",
            bots=len(bots),
            channels=len(channels),
            recovered=recovered,
            resumed_sends=resumed,
            startup_ms=round((time.perf_counter() - started) * 1000),
        )
        yield Runtime(
            settings=settings,
            pool=pool,
            bus=bus,
            hooks=hooks,
            webchat=webchat,
            ingress=ingress,
            desk=desk,
            channels=channels,
            expected_migrations=frozenset(p.name for p in schema_files()),
        )


_LOCAL_EMBEDDERS: dict[str, Embedder] = {}


def _embedder(transport: Any) -> Embedder | None:
    """BOTRT_EMBEDDINGS' embedder; a local model is loaded once per process, on first use."""
    settings = load_embedding_settings()
    embedder = pick_embedder(settings, transport=transport)
    if isinstance(embedder, SentenceTransformerEmbedder):
        return _LOCAL_EMBEDDERS.setdefault(embedder.model_path, embedder)
    return embedder


async def _ingest_sources(knowledge: KnowledgeService, registered: RegisteredBots) -> None:
    """Each bot's [knowledge] sources (globs beside the bot file); unchanged files cost nothing."""
    for bot_id, (bot, _agents) in registered.bots.items():
        if bot.knowledge is None or not bot.knowledge.sources:
            continue
        base = Path(bot.path).parent
        paths = sorted({p for pattern in bot.knowledge.sources for p in base.glob(pattern) if p.is_file()})
        if not paths:
            log.warning("knowledge.no_sources", bot=bot.bot.slug, patterns=bot.knowledge.sources)
            continue
        report = await knowledge.ingest(registered.orgs[bot_id], bot_id, paths)
        log.info("knowledge.ingested", bot=bot.bot.slug, documents=len(paths), report=str(report)[:300])


def _build_agents(
    settings: Settings, registered: RegisteredBots, services: EngineServices, transport: Any, pool: asyncpg.Pool
) -> None:
    """Each bot's LLM agents, when an endpoint is configured (flows work without one)."""
    recorder, meter = PgAgentRecorder(pool), PgUsageMeter(pool)
    for bot_id, (bot, agent_ids) in registered.bots.items():
        if not bot.agents:
            continue
        try:
            services.agents[bot_id] = build_agents(
                bot,
                settings=settings,
                agent_ids=agent_ids,
                transport=transport,
                http=transport,
                recorder=recorder,
                meter=meter,
                knowledge=services.knowledge_search,
            )
        except ConfigError as exc:
            log.warning("agents.disabled", bot=bot.bot.slug, reason=str(exc))


def _voice_notes(
    settings: Settings, platform: dict[str, tuple[ChannelRef, Any]], http: aiohttp.ClientSession
) -> VoiceNoteTranscriber | None:
    """Transcription of voice notes on the channels that carry them, when speech is installed."""
    adapters = {ref.channel_id: adapter for ref, adapter in platform.values() if ref.kind in VOICE_NOTE_KINDS}
    if not adapters:
        return None
    if settings.whisper_model is None and default_model() is None:
        log.warning("voice_notes.disabled", reason="install the speech extra: pip install 'botrt[speech]'")
        return None
    whisper = WhisperTranscriber(settings.whisper_model, device=settings.whisper_device)
    return VoiceNoteTranscriber(whisper, adapters, http)


async def _maintain_periodically(dsn: str, interval: float, first_after: float = 300.0) -> None:
    """Partitions ahead, retention and analytics refresh: soon after start, then every interval.

    Not at once: start-up already made the partitions, and a refresh of the analytics views
    competes with the first traffic of a freshly (re)started server.
    """
    await asyncio.sleep(first_after)
    while True:
        try:
            con = await connect_admin(dsn)
            try:
                report = await maintain(con)
            finally:
                await con.close()
            log.info(
                "maintenance.done",
                created=len(report.created_partitions),
                dropped=len(report.dropped_partitions),
                deleted=sum(report.deleted_rows.values()),
            )
        except Exception as exc:  # noqa: BLE001 - the next run tries again
            log.warning("maintenance.failed", error=repr(exc))
        await asyncio.sleep(interval)


async def _end_idle(pool: asyncpg.Pool, publish: Any, org_ids: list[str], idle_timeout: float) -> None:
    """Ends conversations idle past the timeout, through their lanes (so order holds)."""
    interval = max(1.0, min(300.0, idle_timeout / 10))
    while True:
        await asyncio.sleep(interval)
        for org_id in org_ids:
            try:
                idle = await idle_conversations(pool, org_id, idle_timeout)
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                log.warning("idle_sweep.failed", error=repr(exc))
                continue
            for conversation_id in idle:
                await publish(
                    conversation_id,
                    ConversationTimeout(
                        event_id=new_id(),
                        org_id=org_id,
                        conversation_id=conversation_id,
                        channel_id="",
                        channel_kind="",
                        ts=time.time(),
                    ),
                )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
