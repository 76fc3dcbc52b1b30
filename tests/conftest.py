"""Shared fixtures: one embedded PostgreSQL per session, a migrated template, a database per test.

Each test gets its own database copied from the template (CREATE DATABASE ... TEMPLATE), so
tests never see each other's rows and the schema is migrated only once per session.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from runtime.config import Settings
from runtime.hooks import HookRegistry
from storage.embedded import EmbeddedPostgres, with_database
from storage.migrations import migrate

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = "botrt_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_uri() -> Iterator[str]:
    """Superuser URI of the session's embedded server (postgres database)."""
    # Not under pytest's tmp_path: pytest prunes old numbered dirs, which would pull the data
    # directory from under a concurrent session. A short path keeps the socket under 107 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix="botrt-pg-"))
    server = EmbeddedPostgres(data_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        uri = server.start()
    yield uri
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_url(pg_uri: str) -> str:
    """A database migrated once; every test database is a copy of it."""
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    url = with_database(pg_uri, TEMPLATE)
    con = await asyncpg.connect(url)
    try:
        await migrate(con)
    finally:
        await con.close()
    return url


async def _create_database(pg_uri: str, template: str | None) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_uri)
    try:
        suffix = f" TEMPLATE {template}" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{suffix}")
    finally:
        await admin.close()
    return name


async def _drop_database(pg_uri: str, name: str) -> None:
    admin = await asyncpg.connect(pg_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def database_url(pg_uri: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own (superuser DSN)."""
    name = await _create_database(pg_uri, TEMPLATE)
    yield with_database(pg_uri, name)
    await _drop_database(pg_uri, name)


@pytest.fixture
async def empty_database_url(pg_uri: str) -> AsyncIterator[str]:
    """A fresh database with nothing in it, for migration tests."""
    name = await _create_database(pg_uri, None)
    yield with_database(pg_uri, name)
    await _drop_database(pg_uri, name)


@pytest.fixture(scope="session")
def bots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bot and the test bots side by side."""
    directory = tmp_path_factory.mktemp("bots")
    shutil.copy(REPO / "bots" / "demo.toml", directory / "demo.toml")
    shutil.copytree(REPO / "bots" / "demo_kb", directory / "demo_kb")
    for path in (REPO / "tests" / "data" / "bots").glob("*.toml"):
        shutil.copy(path, directory / path.name)
    return directory


@pytest.fixture
def settings(database_url: str, bots_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        bots=str(bots_dir),
        data_dir=str(tmp_path / "data"),
        port=8080,
        drain_timeout=5.0,
    )


@dataclass
class LiveServer:
    """A running botrt app on a real loopback port."""

    server: TestServer
    settings: Settings
    closed: bool = False

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self.server.close()


async def start_server(settings: Settings, hooks: HookRegistry | None = None) -> LiveServer:
    from botrt.app import build_app

    app: web.Application = await build_app(settings, hooks=hooks)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return LiveServer(server=server, settings=msgspec.structs.replace(settings, port=server.port or 0))


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The real app (demo and test bots) on the test's own database."""
    server = await start_server(settings)
    yield server
    await server.close()
