"""The chat-completions wire format as msgspec Structs (requests, responses, stream chunks)."""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec

Role = Literal["system", "user", "assistant", "tool"]


class FunctionCall(msgspec.Struct, frozen=True, kw_only=True):
    """The function a model asked for; ``arguments`` is JSON text exactly as the model wrote it."""

    name: str
    arguments: str = ""


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """One tool call of an assistant message."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A message of the conversation as the API carries it."""

    role: Role
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] | None = None
    tool_call_id: str | None = None
    name: str | None = None


class FunctionSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A function the model may call, with its JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolSpecWire(msgspec.Struct, frozen=True, kw_only=True):
    """The ``tools`` entry of a request."""

    type: Literal["function"] = "function"
    function: FunctionSpec


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    """Token counts; ``estimated`` when the server sent none and we counted characters."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            estimated=self.estimated or other.estimated,
        )


ToolChoice = Literal["auto", "none", "required"] | dict[str, Any]


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the agent asks of the model; before_agent hooks see and may replace it."""

    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[FunctionSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    temperature: float | None = None
    max_tokens: int | None = None


class ChatCompletion(msgspec.Struct, frozen=True, kw_only=True):
    """The assembled answer of one call; after_agent hooks see and may replace it."""

    model: str
    message: ChatMessage
    finish_reason: str | None
    usage: Usage
    latency_ms: int = 0


# ---- decoding what servers send (lenient: unknown fields ignored, most fields optional) -----


class FunctionDelta(msgspec.Struct, kw_only=True):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(msgspec.Struct, kw_only=True):
    # Some servers (older Ollama) omit the index; the assembler then infers it.
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionDelta | None = None


class Delta(msgspec.Struct, kw_only=True):
    role: str | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(msgspec.Struct, kw_only=True):
    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None


class UsageWire(msgspec.Struct, kw_only=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Chunk(msgspec.Struct, kw_only=True):
    """One ``chat.completion.chunk`` of a stream."""

    model: str | None = None
    choices: list[ChunkChoice] = msgspec.field(default_factory=list)
    usage: UsageWire | None = None


class ResponseMessage(msgspec.Struct, kw_only=True):
    content: str | None = None
    tool_calls: list[ToolCall] | None = None


class ResponseChoice(msgspec.Struct, kw_only=True):
    index: int = 0
    message: ResponseMessage
    finish_reason: str | None = None


class CompletionWire(msgspec.Struct, kw_only=True):
    """A non-streamed ``chat.completion`` object."""

    model: str | None = None
    choices: list[ResponseChoice]
    usage: UsageWire | None = None


def request_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The JSON body for POST /chat/completions."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": msgspec.to_builtins(request.messages),
        "stream": stream,
    }
    if stream:
        # Without this the stream carries no token counts at all.
        body["stream_options"] = {"include_usage": True}
    if request.tools:
        body["tools"] = [msgspec.to_builtins(ToolSpecWire(function=spec)) for spec in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    return body


JSON_ENCODER: Final = msgspec.json.Encoder()
