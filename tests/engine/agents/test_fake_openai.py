"""The fake OpenAI server itself: embeddings, models, recording (what the knowledge tests rely on)."""

from __future__ import annotations

import base64
import math
import struct

import pytest

from botrt.llm_transport import AiohttpTransport
from engine.agents import LLMRejected, LLMUnavailable
from tests.fakes.openai import Fail, FakeOpenAI


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_embeddings_are_deterministic_normalised_and_similar_for_similar_texts(
    transport: AiohttpTransport,
) -> None:
    async with FakeOpenAI(embedding_dim=64) as fake:
        url = fake.base_url + "/embeddings"
        texts = ["opening hours of the shop", "shop opening hours", "refund policy for damaged goods"]
        answer = await transport.post_json(url, {}, {"model": "emb", "input": texts}, timeout_s=5)
        again = await transport.post_json(url, {}, {"model": "emb", "input": texts[0]}, timeout_s=5)
        narrow = await transport.post_json(url, {}, {"input": "x", "dimensions": 8}, timeout_s=5)
        packed = await transport.post_json(url, {}, {"input": "x y", "encoding_format": "base64"}, timeout_s=5)
    assert answer["object"] == "list" and answer["model"] == "emb"
    assert answer["usage"] == {"prompt_tokens": 13, "total_tokens": 13}
    vectors = [item["embedding"] for item in answer["data"]]
    assert [item["index"] for item in answer["data"]] == [0, 1, 2]
    assert all(item["object"] == "embedding" for item in answer["data"])
    assert all(len(v) == 64 and math.isclose(math.sqrt(cosine(v, v)), 1.0) for v in vectors)
    assert again["data"][0]["embedding"] == vectors[0]
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert len(narrow["data"][0]["embedding"]) == 8
    unpacked = struct.unpack("<64f", base64.b64decode(packed["data"][0]["embedding"]))
    assert math.isclose(sum(x * x for x in unpacked), 1.0, rel_tol=1e-5)
    assert [r["input"] for r in fake.embedding_requests][:2] == [texts, texts[0]]


async def test_embedding_failures_and_bad_input(transport: AiohttpTransport) -> None:
    async with FakeOpenAI() as fake:
        url = fake.base_url + "/embeddings"
        fake.script_embeddings(Fail(503))
        with pytest.raises(LLMUnavailable):
            await transport.post_json(url, {}, {"input": "x"}, timeout_s=5)
        with pytest.raises(LLMRejected):
            await transport.post_json(url, {}, {"input": ""}, timeout_s=5)
        assert (await transport.post_json(url, {}, {"input": "x"}, timeout_s=5))["data"]


async def test_an_empty_script_answers_500_and_models_are_listed(transport: AiohttpTransport) -> None:
    async with FakeOpenAI(model="m1") as fake:
        with pytest.raises(LLMUnavailable, match="no scripted response"):
            await transport.post_json(fake.base_url + "/chat/completions", {}, {"messages": []}, timeout_s=5)
        http = await transport.request("GET", fake.base_url + "/models", headers={}, body=None, timeout_s=5)
    assert http.status == 200 and b'"m1"' in http.body
