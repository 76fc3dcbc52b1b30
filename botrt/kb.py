"""`botrt kb ingest BOT PATH...`: documents into a bot's knowledge base, with a progress bar."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from botrt.database import database_dsn
from botrt.llm_transport import AiohttpTransport
from botrt.services import migrate_database
from engine.botfile import load_bots
from engine.embeddings import SentenceTransformerEmbedder, load_embedding_settings, pick_embedder
from engine.errors import BotFileError
from engine.knowledge import DocumentReport, IngestReport, KnowledgeService
from engine.knowledge.parsing import MIME_TYPES
from runtime.config import Settings
from runtime.errors import BotrtError
from storage.knowledge import PgKnowledgeStore, bots_by_slug, ensure_bot
from storage.pool import connect_admin, create_app_pool


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given; directories walked for supported documents, in name order."""

    def walk(path: Path) -> Iterator[Path]:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in MIME_TYPES and not child.name.startswith("."):
                    yield child
        else:
            yield path  # a missing or unsupported file is reported as failed, not skipped silently

    found: dict[Path, None] = {}
    for raw in paths:
        for path in walk(Path(raw)):
            found.setdefault(path, None)
    return list(found)


async def _resolve_bot(settings: Settings, dsn: str, bot_slug: str) -> tuple[str, str]:
    """(org_id, bot_id): the bot file in BOTRT_BOTS names its organization; else the database."""
    org_slug: str | None = None
    name = bot_slug
    try:
        for bot in load_bots(Path(settings.bots)):
            if bot.bot.slug == bot_slug:
                org_slug, name = bot.bot.org, bot.bot.name
    except BotFileError:
        pass  # no bot files here: the bot may still be registered in the database
    con = await connect_admin(dsn)
    try:
        if org_slug is not None:
            ids = await ensure_bot(con, org_slug=org_slug, bot_slug=bot_slug, name=name)
            if ids is not None:
                return ids
        matches = await bots_by_slug(con, bot_slug)
    finally:
        await con.close()
    if len(matches) == 1:
        return matches[0][0], matches[0][1]
    if not matches:
        raise BotrtError(f"no bot {bot_slug!r}: not in {settings.bots} (BOTRT_BOTS) nor in the database")
    orgs = ", ".join(m[2] for m in matches)
    raise BotrtError(f"bot {bot_slug!r} exists in several organizations ({orgs}); put its bot file in BOTRT_BOTS")


def _summary(report: IngestReport, model: str | None) -> str:
    search = f"hybrid search with {model}" if model else "full-text search only (no embedder installed)"
    return (
        f"{len(report.documents)} document(s): {report.count('created')} created, {report.count('updated')} updated, "
        f"{report.count('unchanged')} unchanged, {report.count('failed')} failed; {report.chunks} chunk(s) written "
        f"in {report.seconds:.1f} s; {search}"
    )


async def _ingest(settings: Settings, bot_slug: str, files: list[Path], out: TextIO) -> tuple[IngestReport, str | None]:
    from tqdm import tqdm

    async with database_dsn(settings) as dsn:
        await migrate_database(dsn)
        org_id, bot_id = await _resolve_bot(settings, dsn, bot_slug)
        pool = await create_app_pool(dsn, size=2)
        transport = AiohttpTransport()
        embedder = pick_embedder(load_embedding_settings(), transport=transport)
        service = KnowledgeService(PgKnowledgeStore(pool), embedder)
        sizes = {str(f): f.stat().st_size if f.is_file() else 0 for f in files}
        try:
            with tqdm(total=sum(sizes.values()), unit="B", unit_scale=True, desc=f"kb {bot_slug}", file=out) as bar:

                def progress(report: DocumentReport) -> None:
                    bar.update(sizes.get(report.path, 0))
                    bar.set_postfix_str(f"{Path(report.path).name}: {report.outcome}", refresh=False)
                    if report.outcome == "failed":
                        bar.write(f"failed: {report.path}: {report.error}", file=out)

                report = await service.ingest(org_id, bot_id, files, progress)
            return report, service.embedding_model
        finally:
            service.close()
            if isinstance(embedder, SentenceTransformerEmbedder):
                embedder.close()
            await transport.close()
            await pool.close()


def kb_ingest(settings: Settings, bot_slug: str, paths: list[str]) -> int:
    """Ingests files and directories into the bot's knowledge base; 1 when any document failed."""
    files = expand_paths(paths)
    if not files:
        print(f"botrt kb ingest: no documents in {' '.join(paths)} ({', '.join(sorted(MIME_TYPES))})", file=sys.stderr)
        return 2
    report, model = asyncio.run(_ingest(settings, bot_slug, files, sys.stderr))
    print(_summary(report, model))
    return 1 if report.count("failed") else 0
