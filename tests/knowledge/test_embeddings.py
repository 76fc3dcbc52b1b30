"""Embedders: the local model, an OpenAI-compatible endpoint on loopback, and the choice between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from botrt.llm_transport import AiohttpTransport
from engine.embeddings import (
    EmbeddingSettings,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    load_embedding_settings,
    pick_embedder,
)
from engine.errors import EmbedderError
from runtime.errors import ConfigError
from tests.knowledge.conftest import HAVE_MODEL, needs_model


@needs_model
async def test_the_local_model_gives_unit_vectors_that_know_paraphrases() -> None:
    embedder = SentenceTransformerEmbedder()
    try:
        a, b, c = np.asarray(
            await embedder.embed(["How do I get a refund?", "Can I have my money back?", "The tent has two poles."])
        )
    finally:
        embedder.close()
    assert embedder.dimensions == a.shape[0] == 384
    assert np.allclose([np.linalg.norm(v) for v in (a, b, c)], 1.0, atol=1e-4)
    assert float(a @ b) > float(a @ c) + 0.3
    assert await embedder.embed([]) == []


class FakeEmbeddingsServer:
    """An OpenAI-compatible /v1/embeddings on loopback that records what it was sent."""

    def __init__(self, dims: int = 384) -> None:
        self.dims = dims
        self.requests: list[dict[str, Any]] = []
        self.headers: list[str | None] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(request.headers.get("Authorization"))
        if body["input"] == ["fail"]:
            return web.json_response({"error": {"message": "model overloaded"}}, status=503)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text))] + [1.0] * (self.dims - 1)}
            for i, text in enumerate(body["input"])
        ]
        data.reverse()  # servers may answer out of order; index says where each belongs
        return web.json_response({"object": "list", "data": data, "model": body["model"]})


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, FakeEmbeddingsServer]]:
    fake = FakeEmbeddingsServer()
    app = web.Application()
    app.router.add_post("/v1/embeddings", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/v1")), fake
    await server.close()


async def test_openai_embedder_batches_orders_and_normalizes(endpoint: tuple[str, FakeEmbeddingsServer]) -> None:
    base, fake = endpoint
    async with AiohttpTransport() as transport:
        embedder = OpenAIEmbedder(
            transport, base_url=base, model="text-embedding-3-small", api_key="sk-test", batch_size=2
        )
        vectors = await embedder.embed(["a", "bb", "ccc"])
    assert [r["input"] for r in fake.requests] == [["a", "bb"], ["ccc"]]
    assert fake.requests[0]["dimensions"] == 384 and fake.requests[0]["encoding_format"] == "float"
    assert fake.headers == ["Bearer sk-test"] * 2
    array = np.asarray(vectors)
    assert np.allclose(np.linalg.norm(array, axis=1), 1.0)
    assert array[0, 0] < array[1, 0] < array[2, 0]  # each vector back in its input's place


async def test_openai_embedder_errors_name_the_problem(endpoint: tuple[str, FakeEmbeddingsServer]) -> None:
    base, fake = endpoint
    async with AiohttpTransport() as transport:
        other = OpenAIEmbedder(transport, base_url=base, model="all-minilm")
        with pytest.raises(EmbedderError, match="model overloaded"):
            await other.embed(["fail"])
        assert "dimensions" not in fake.requests[-1]  # only text-embedding-3 models take it
        fake.dims = 768
        with pytest.raises(EmbedderError, match="not 384-d"):
            await other.embed(["x"])


def test_settings_come_from_the_environment_with_llm_fallbacks() -> None:
    settings = load_embedding_settings(
        {
            "BOTRT_EMBEDDINGS": "openai",
            "BOTRT_LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "BOTRT_LLM_API_KEY": "k",
            "BOTRT_EMBEDDINGS_BATCH_SIZE": "16",
        }
    )
    assert settings == EmbeddingSettings(
        embeddings="openai",
        embeddings_base_url="http://127.0.0.1:9/v1",
        embeddings_api_key="k",
        embeddings_batch_size=16,
    )
    with pytest.raises(ConfigError) as caught:
        load_embedding_settings({"BOTRT_EMBEDDINGS": "remote"})
    assert caught.value.variable == "BOTRT_EMBEDDINGS"


async def test_pick_embedder_follows_botrt_embeddings() -> None:
    assert pick_embedder(EmbeddingSettings(embeddings="none")) is None
    async with AiohttpTransport() as transport:
        remote = pick_embedder(
            EmbeddingSettings(embeddings="openai", embeddings_base_url="http://127.0.0.1:9/v1", embeddings_model="m"),
            transport=transport,
        )
        assert isinstance(remote, OpenAIEmbedder) and remote.model == "m"
    with pytest.raises(ConfigError, match="BOTRT_EMBEDDINGS_BASE_URL"):
        pick_embedder(EmbeddingSettings(embeddings="openai"))
    auto = pick_embedder(EmbeddingSettings())
    if HAVE_MODEL:
        assert isinstance(auto, SentenceTransformerEmbedder) and auto.model == "all-MiniLM-L6-v2"
        auto.close()
    else:
        assert auto is None
