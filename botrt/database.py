"""Finding the database: BOTRT_DATABASE_URL, or the embedded server under BOTRT_DATA_DIR."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from runtime.config import Settings
from storage.embedded import DATABASE, EmbeddedPostgres, with_database
from storage.pool import connect_admin
from storage.queries import QUERIES


@asynccontextmanager
async def database_dsn(settings: Settings, *, stop_embedded: bool = True) -> AsyncIterator[str]:
    """Yields the owner DSN; starts (and later stops) the embedded server when no URL is set."""
    if settings.database_url:
        yield settings.database_url
        return
    server = EmbeddedPostgres(Path(settings.data_dir))
    uri = await asyncio.to_thread(server.start)
    try:
        con = await connect_admin(uri)
        try:
            if not await con.fetchval(QUERIES["admin/database_exists"], DATABASE):
                await con.execute(QUERIES["admin/create_database"])
        finally:
            await con.close()
        yield with_database(uri, DATABASE)
    finally:
        if stop_embedded:
            await asyncio.to_thread(server.stop)
