"""An OpenAI-compatible chat-completions client: streaming, tool-call assembly, usage, retries."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

import msgspec

from engine.agents.errors import LLMError, LLMProtocolError, LLMRejected, LLMTimeout, LLMUnavailable
from engine.agents.ports import LLMTransport
from engine.agents.wire import (
    JSON_ENCODER,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    Chunk,
    CompletionWire,
    FunctionCall,
    ToolCall,
    Usage,
    request_body,
)
from runtime.config import Settings
from runtime.errors import ConfigError

DeltaSink = Callable[[str], Awaitable[None]]
# A rough but conservative figure (OpenAI's rule of thumb), used only when a server reports no usage.
CHARS_PER_TOKEN: Final = 4
MAX_RETRY_WAIT_S: Final = 10.0


class LLMConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how to call the model."""

    base_url: str
    model: str
    api_key: str | None = None
    # Bounds the connection and each wait for the next stream event (a hung server), not the whole answer.
    timeout_s: float = 30.0
    # Retries of retryable failures (429, 5xx, timeouts), only while nothing has been streamed yet.
    retries: int = 1
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    stream: bool = True

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("BOTRT_LLM_BASE_URL", f"{self.base_url!r} is not an http(s) URL")
        if self.timeout_s <= 0 or self.retries < 0:
            raise ConfigError("BOTRT_LLM_*", "timeout_s must be positive and retries not negative")


class LLMOverrides(msgspec.Struct, frozen=True, kw_only=True):
    """Per-agent settings; what is None falls back to BOTRT_LLM_*."""

    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    timeout_s: float | None = None
    retries: int | None = None
    headers: dict[str, str] | None = None
    stream: bool | None = None


def resolve_llm_config(settings: Settings, overrides: LLMOverrides | None = None) -> LLMConfig:
    """Merges an agent's overrides over BOTRT_LLM_*; the error names the missing variable."""
    o = overrides or LLMOverrides()
    base_url = o.base_url or settings.llm_base_url
    model = o.model or settings.llm_model
    if not base_url:
        raise ConfigError(
            "BOTRT_LLM_BASE_URL", "no LLM endpoint: set it (e.g. https://api.openai.com/v1) or the agent's base_url"
        )
    if not model:
        raise ConfigError("BOTRT_LLM_MODEL", "no model: set it or the agent's model")
    defaults = LLMConfig(base_url=base_url, model=model)
    return LLMConfig(
        base_url=base_url.rstrip("/"),
        model=model,
        api_key=o.api_key if o.api_key is not None else settings.llm_api_key,
        timeout_s=o.timeout_s if o.timeout_s is not None else defaults.timeout_s,
        retries=o.retries if o.retries is not None else defaults.retries,
        headers=o.headers if o.headers is not None else {},
        stream=o.stream if o.stream is not None else defaults.stream,
    )


@dataclass(slots=True)
class _PartialCall:
    id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@final
class StreamAssembler:
    """Folds ``chat.completion.chunk`` objects into one message, usage and finish reason."""

    def __init__(self) -> None:
        self._content: list[str] = []
        self._calls: dict[int, _PartialCall] = {}
        self._last_index: int | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None

    def feed(self, event: Mapping[str, Any]) -> str | None:
        """Takes one chunk; returns its content delta (the text to show) or None."""
        if "error" in event:
            # OpenAI reports failures that happen mid-stream as an error object in the stream.
            error = event["error"]
            message = error.get("message", "") if isinstance(error, Mapping) else str(error)
            raise LLMUnavailable(None, f"error in stream: {message}")
        try:
            chunk = msgspec.convert(event, Chunk)
        except msgspec.ValidationError as exc:
            raise LLMProtocolError(f"malformed chunk: {exc}") from exc
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = Usage(prompt_tokens=chunk.usage.prompt_tokens, completion_tokens=chunk.usage.completion_tokens)
        text: str | None = None
        for choice in chunk.choices:
            if choice.index != 0:
                continue  # we ask for one choice; ignore any others rather than mixing them
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            if delta.content:
                self._content.append(delta.content)
                text = delta.content if text is None else text + delta.content
            for call in delta.tool_calls or ():
                self._tool_delta(call.index, call.id, call.function.name if call.function else None,
                                 call.function.arguments if call.function else None)
        return text

    def _tool_delta(self, index: int | None, call_id: str | None, name: str | None, arguments: str | None) -> None:
        if index is None:
            # No index (some servers): a new id starts a new call, anything else continues the last.
            last = self._calls.get(self._last_index) if self._last_index is not None else None
            if last is None or (call_id and call_id != last.id):
                index = max(self._calls, default=-1) + 1
            else:
                index = self._last_index
        assert index is not None
        partial = self._calls.get(index)
        if partial is None:
            partial = self._calls[index] = _PartialCall(id=call_id or f"call_{index}")
        elif call_id:
            partial.id = call_id
        if name:
            # The name arrives whole in the first delta; servers that split it still concatenate right.
            partial.name += name
        if arguments:
            partial.arguments.append(arguments)
        self._last_index = index

    def message(self) -> ChatMessage:
        """The assistant message assembled so far."""
        calls = tuple(
            ToolCall(id=p.id, function=FunctionCall(name=p.name, arguments="".join(p.arguments)))
            for _, p in sorted(self._calls.items())
        )
        content = "".join(self._content)
        return ChatMessage(role="assistant", content=content or None, tool_calls=calls or None)


def estimate_usage(request: ChatRequest, message: ChatMessage) -> Usage:
    """Counts tokens from characters, for servers that send no usage (so limits still hold)."""
    prompt_chars = sum(len(m.content or "") for m in request.messages)
    prompt_chars += sum(len(JSON_ENCODER.encode(t.parameters)) + len(t.description) for t in request.tools)
    completion_chars = len(message.content or "")
    completion_chars += sum(len(c.function.name) + len(c.function.arguments) for c in message.tool_calls or ())
    return Usage(
        prompt_tokens=max(1, prompt_chars // CHARS_PER_TOKEN),
        completion_tokens=max(1, completion_chars // CHARS_PER_TOKEN),
        estimated=True,
    )


@final
class ChatClient:
    """Calls POST {base_url}/chat/completions through a transport."""

    def __init__(self, *, transport: LLMTransport, config: LLMConfig) -> None:
        self._transport = transport
        self.config = config
        self._url = f"{config.base_url.rstrip('/')}/chat/completions"

    @property
    def model(self) -> str:
        return self.config.model

    def _headers(self, *, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json", **self.config.headers}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return headers

    async def complete(self, request: ChatRequest, *, on_delta: DeltaSink | None = None) -> ChatCompletion:
        """One model answer; content deltas go to on_delta as they arrive. Raises LLMError."""
        streamed = False

        async def forward(text: str) -> None:
            nonlocal streamed
            streamed = True
            if on_delta is not None:
                await on_delta(text)

        attempt = 0
        while True:
            started = time.monotonic()
            try:
                if self.config.stream:
                    completion = await self._stream(request, forward)
                else:
                    completion = await self._post(request)
            except LLMError as exc:
                # Once tokens reached the user a retry would show them twice; give up instead.
                if not exc.retryable or attempt >= self.config.retries or streamed:
                    raise
                await asyncio.sleep(self._backoff(attempt, exc))
                attempt += 1
                continue
            latency = int((time.monotonic() - started) * 1000)
            return msgspec.structs.replace(completion, latency_ms=latency)

    @staticmethod
    def _backoff(attempt: int, exc: LLMError) -> float:
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float):
            return min(float(retry_after), MAX_RETRY_WAIT_S)
        # Full jitter keeps many conversations from retrying in lockstep.
        return random.uniform(0.1, min(MAX_RETRY_WAIT_S, 0.5 * 2**attempt))

    async def _post(self, request: ChatRequest) -> ChatCompletion:
        body = request_body(request, stream=False)
        timeout = self.config.timeout_s
        try:
            # Guarded here too, so a transport that ignores its timeout cannot hang a turn.
            async with asyncio.timeout(timeout):
                raw = await self._transport.post_json(self._url, self._headers(stream=False), body, timeout_s=timeout)
        except TimeoutError as exc:
            raise LLMTimeout(timeout) from exc
        try:
            wire = msgspec.convert(raw, CompletionWire)
        except msgspec.ValidationError as exc:
            raise LLMProtocolError(f"malformed completion: {exc}") from exc
        if not wire.choices:
            raise LLMProtocolError("completion has no choices")
        choice = wire.choices[0]
        message = ChatMessage(
            role="assistant",
            content=choice.message.content or None,
            tool_calls=tuple(choice.message.tool_calls) if choice.message.tool_calls else None,
        )
        usage = (
            Usage(prompt_tokens=wire.usage.prompt_tokens, completion_tokens=wire.usage.completion_tokens)
            if wire.usage
            else estimate_usage(request, message)
        )
        return ChatCompletion(
            model=wire.model or request.model, message=message, finish_reason=choice.finish_reason, usage=usage
        )

    async def _stream(self, request: ChatRequest, on_delta: DeltaSink) -> ChatCompletion:
        body = request_body(request, stream=True)
        timeout = self.config.timeout_s
        assembler = StreamAssembler()
        stream = self._transport.stream_sse(self._url, self._headers(stream=True), body, timeout_s=timeout)
        iterator = aiter(stream)
        try:
            while True:
                try:
                    # Each wait is bounded: a server that stalls mid-answer is a timeout, not a hang.
                    async with asyncio.timeout(timeout):
                        event = await anext(iterator)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    raise LLMTimeout(timeout) from exc
                text = assembler.feed(event)
                if text:
                    await on_delta(text)
        finally:
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()
        message = assembler.message()
        if message.content is None and message.tool_calls is None and assembler.finish_reason is None:
            raise LLMProtocolError("stream ended without content, tool calls or a finish reason")
        if assembler.finish_reason == "content_filter" and message.content is None:
            raise LLMRejected(400, "answer withheld by the provider's content filter")
        return ChatCompletion(
            model=assembler.model or request.model,
            message=message,
            finish_reason=assembler.finish_reason,
            usage=assembler.usage or estimate_usage(request, message),
        )
