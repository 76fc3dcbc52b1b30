"""A fake OpenAI-compatible server on loopback that speaks the documented wire format.

    async with FakeOpenAI() as fake:
        fake.script(Text("Hello!"), ToolCalls(Call("get_weather", {"city": "Paris"})), Fail(500))
        ... point a client at fake.base_url ...
        fake.chat_requests[0]["messages"]

POST /v1/chat/completions answers each request with the next scripted turn, as a JSON
``chat.completion`` or, with ``"stream": true``, as SSE ``chat.completion.chunk`` events: a
first chunk with the role, content deltas, tool_calls deltas split the way OpenAI splits them
(the first with index, id, type, name and empty arguments, then argument fragments), a final
chunk with finish_reason, a ``"choices": []`` chunk with usage when
``stream_options.include_usage`` is set, and ``data: [DONE]``. An empty script answers 500.
POST /v1/embeddings answers deterministic hashed bag-of-words vectors (similar texts, similar
vectors). Every request is recorded in ``requests``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import math
import re
import struct
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import msgspec
from aiohttp import web

from tests.fakes.server import LoopbackServer

_ENCODER: Final = msgspec.json.Encoder()
_WORDS: Final = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: words and punctuation marks."""
    return len(_WORDS.findall(text))


# ---- the script ---------------------------------------------------------------------------


class Text:
    """A text answer, streamed ``chunk_chars`` characters per delta."""

    def __init__(self, content: str, *, usage: tuple[int, int] | None = None, delay: float = 0.0,
                 chunk_delay: float = 0.0, chunk_chars: int = 4, finish_reason: str = "stop",
                 stall_after: int | None = None) -> None:
        self.content = content
        self.usage = usage
        self.delay = delay
        self.chunk_delay = chunk_delay
        self.chunk_chars = chunk_chars
        self.finish_reason = finish_reason
        # Stream this many chunks, then go silent (a server that hangs mid-answer).
        self.stall_after = stall_after


@dataclass(frozen=True)
class Call:
    """One tool call the fake model makes."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else _ENCODER.encode(self.arguments).decode()


class ToolCalls:
    """An answer that calls tools; arguments are streamed in ``fragment_chars`` pieces."""

    def __init__(self, *calls: Call, content: str | None = None, usage: tuple[int, int] | None = None,
                 delay: float = 0.0, fragment_chars: int = 7) -> None:
        self.calls = calls
        self.content = content
        self.usage = usage
        self.delay = delay
        self.fragment_chars = fragment_chars


class Fail:
    """An HTTP error with OpenAI's error body."""

    def __init__(self, status: int, message: str = "scripted failure", *, retry_after: float | None = None,
                 delay: float = 0.0) -> None:
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.delay = delay


class Hang:
    """Never answers (until the fake closes): no headers, no bytes."""

    def __init__(self, seconds: float = 3600.0) -> None:
        self.seconds = seconds


Scripted = Text | ToolCalls | Fail | Hang


@dataclass(frozen=True)
class Recorded:
    """A request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


# ---- the server ---------------------------------------------------------------------------


class FakeOpenAI(LoopbackServer):
    """The fake server; use as ``async with FakeOpenAI() as fake``."""

    # aiohttp's access log stays on, and a hanging turn sleeps on after its client gave up
    # (until the fake closes), as a server that never notices a disconnect would.
    _runner_options: ClassVar[Mapping[str, Any]] = {"shutdown_timeout": 1.0}

    def __init__(self, *, api_key: str | None = None, model: str = "fake-gpt", embedding_dim: int = 384,
                 keepalive_comments: bool = False, crlf: bool = False, stream_usage: bool = True) -> None:
        super().__init__()
        self.api_key = api_key
        self.model = model
        self.embedding_dim = embedding_dim
        self.keepalive_comments = keepalive_comments
        self.crlf = crlf
        # False acts like servers that ignore stream_options and never send a usage chunk.
        self.stream_usage = stream_usage
        self.requests: list[Recorded] = []
        self._turns: deque[Scripted] = deque()
        self._embedding_failures: deque[Fail] = deque()
        self._ids = itertools.count(1)

    # -- control

    def script(self, *turns: Scripted) -> None:
        """Queues answers; each chat-completions request takes the next."""
        self._turns.extend(turns)

    def script_embeddings(self, *failures: Fail) -> None:
        """Queues failures for the next embeddings requests (then answers normally)."""
        self._embedding_failures.extend(failures)

    async def received(self, count: int) -> None:
        """Waits until at least ``count`` requests have arrived (to act while one is in flight)."""
        await self._wait_until(lambda: len(self.requests) >= count, None)

    @property
    def pending(self) -> int:
        """Scripted turns not yet used."""
        return len(self._turns)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The bodies of the chat-completions requests, in order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path.endswith("/embeddings")]

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self._chat),
            web.post("/v1/embeddings", self._embeddings),
            web.get("/v1/models", self._models),
        ]

    # -- handlers

    async def _record(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            body = msgspec.json.decode(raw) if raw else None
        except msgspec.DecodeError:
            body = raw.decode("utf-8", errors="replace")
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), body))
        self._recorded()
        return body

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")

    @staticmethod
    def _error(status: int, message: str, kind: str, code: str | None = None,
               retry_after: float | None = None) -> web.Response:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return web.json_response(body, status=status, headers=headers)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(400, "'messages' is a required property", "invalid_request_error")
        if not self._turns:
            return self._error(500, "fake: no scripted response left", "server_error")
        turn = self._turns.popleft()
        if isinstance(turn, Hang):
            await self._sleep(turn.seconds)
            return self._error(503, "fake: hang ended", "server_error")
        if isinstance(turn, Fail):
            await self._sleep(turn.delay)
            kind = "rate_limit_exceeded" if turn.status == 429 else (
                "server_error" if turn.status >= 500 else "invalid_request_error")
            return self._error(turn.status, turn.message, kind, retry_after=turn.retry_after)
        if not await self._sleep(turn.delay):
            return self._error(503, "fake: closing", "server_error")
        if body.get("stream"):
            return await self._stream(request, body, turn)
        return web.json_response(self._completion(body, turn))

    def _usage(self, body: dict[str, Any], turn: Text | ToolCalls) -> dict[str, Any]:
        if turn.usage is not None:
            prompt, completion = turn.usage
        else:
            prompt = sum(count_tokens(str(m.get("content") or "")) for m in body["messages"])
            produced = turn.content or ""
            if isinstance(turn, ToolCalls):
                produced += "".join(c.name + c.arguments_json for c in turn.calls)
            completion = max(1, count_tokens(produced))
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def _call_ids(self, turn: ToolCalls) -> list[str]:
        return [c.id or f"call_{next(self._ids):06d}" for c in turn.calls]

    def _completion(self, body: dict[str, Any], turn: Text | ToolCalls) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": turn.content, "refusal": None}
        finish = turn.finish_reason if isinstance(turn, Text) else "tool_calls"
        if isinstance(turn, ToolCalls):
            message["tool_calls"] = [
                {"id": call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
                for call_id, c in zip(self._call_ids(turn), turn.calls, strict=True)
            ]
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": self._usage(body, turn),
        }

    def _deltas(self, turn: Text | ToolCalls) -> list[dict[str, Any]]:
        """The delta objects of a stream, split the way OpenAI splits them."""
        if isinstance(turn, Text):
            deltas: list[dict[str, Any]] = [{"role": "assistant", "content": "", "refusal": None}]
            step = max(1, turn.chunk_chars)
            deltas += [{"content": turn.content[i : i + step]} for i in range(0, len(turn.content), step)]
            return deltas
        deltas = [{"role": "assistant", "content": turn.content, "refusal": None}] if turn.content else []
        step = max(1, turn.fragment_chars)
        for index, (call_id, call) in enumerate(zip(self._call_ids(turn), turn.calls, strict=True)):
            head = {"index": index, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            first: dict[str, Any] = {"tool_calls": [head]}
            if index == 0 and not turn.content:
                first = {"role": "assistant", "content": None, **first}
            deltas.append(first)
            arguments = call.arguments_json
            deltas += [
                {"tool_calls": [{"index": index, "function": {"arguments": arguments[i : i + step]}}]}
                for i in range(0, len(arguments), step)
            ]
        return deltas

    def _events(self, body: dict[str, Any], turn: Text | ToolCalls) -> list[dict[str, Any] | str]:
        """The SSE data payloads of a streamed answer, in order, ending with [DONE]."""
        include_usage = self.stream_usage and bool((body.get("stream_options") or {}).get("include_usage"))
        base = {"id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", self.model), "system_fingerprint": "fp_fake"}
        # With include_usage OpenAI sends "usage": null on every chunk but the last.
        no_usage = {"usage": None} if include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "choices": [choice], **no_usage}

        finish = turn.finish_reason if isinstance(turn, Text) else "tool_calls"
        events: list[dict[str, Any] | str] = [chunk(delta) for delta in self._deltas(turn)]
        events.append(chunk({}, finish))
        if include_usage:
            events.append({**base, "choices": [], "usage": self._usage(body, turn)})
        events.append("[DONE]")
        return events

    async def _stream(self, request: web.Request, body: dict[str, Any], turn: Text | ToolCalls) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        newline = "\r\n" if self.crlf else "\n"
        stall_after = turn.stall_after if isinstance(turn, Text) else None
        delay = turn.chunk_delay if isinstance(turn, Text) else 0.0
        try:
            for n, event in enumerate(self._events(body, turn)):
                if stall_after is not None and n >= stall_after:
                    await self._sleep(3600)
                    return response
                if self.keepalive_comments:
                    await response.write(f": keep-alive{newline}{newline}".encode())
                data = event if isinstance(event, str) else _ENCODER.encode(event).decode()
                await response.write(f"data: {data}{newline}{newline}".encode())
                if delay and not await self._sleep(delay):
                    return response
            await response.write_eof()
        except ConnectionResetError:
            pass  # the client gave up (its timeout); nothing more to send
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if self._embedding_failures:
            failure = self._embedding_failures.popleft()
            return self._error(failure.status, failure.message, "server_error", retry_after=failure.retry_after)
        if not isinstance(body, dict) or "input" not in body:
            return self._error(400, "'input' is a required property", "invalid_request_error")
        raw = body["input"]
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw)
        if not inputs or any(item in ("", []) for item in inputs):
            return self._error(400, "'input' cannot be an empty string", "invalid_request_error")
        texts = [item if isinstance(item, str) else " ".join(f"t{token}" for token in item) for item in inputs]
        dim = int(body.get("dimensions") or self.embedding_dim)
        data = []
        for index, text in enumerate(texts):
            vector = hashed_embedding(text, dim)
            value: list[float] | str = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": value})
        tokens = sum(count_tokens(t) for t in texts)
        return web.json_response({
            "object": "list",
            "data": data,
            "model": body.get("model", "fake-embedding"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })

    async def _models(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), None))
        return web.json_response({"object": "list", "data": [
            {"id": self.model, "object": "model", "created": 0, "owned_by": "fake"},
        ]})


def hashed_embedding(text: str, dim: int) -> list[float]:
    """Hashed bag of words, L2-normalised: shared words make vectors close."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vector[digest % dim] += 1.0 if (digest >> 63) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector
