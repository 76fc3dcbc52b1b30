"""An incremental decoder for server-sent events carrying chat-completion JSON chunks."""

from __future__ import annotations

from typing import Any, Final, final

import msgspec

from engine.agents.errors import LLMProtocolError

DONE: Final = "[DONE]"
# Bounded memory: no legitimate event comes near this; a server that never sends a newline does.
MAX_EVENT_BYTES: Final = 8 * 1024 * 1024
_DECODER: Final = msgspec.json.Decoder()


@final
class SSEDecoder:
    """Feed it bytes as they arrive; it returns each complete event's JSON object.

    Comments (``: keep-alive``) and fields other than ``data`` are ignored, multi-line data is
    joined as the SSE spec says, and ``data: [DONE]`` ends the stream (``done`` turns true).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._data: list[str] = []
        self.done = False

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Returns the events completed by this chunk, in order."""
        if self.done:
            return []
        self._buffer += chunk
        events: list[dict[str, Any]] = []
        while not self.done:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > MAX_EVENT_BYTES:
                    raise LLMProtocolError(f"stream line longer than {MAX_EVENT_BYTES} bytes")
                break
            # LLM servers end lines with \n or \r\n; a lone \r (allowed by the spec) is unseen in practice.
            line = bytes(self._buffer[:newline]).rstrip(b"\r").decode("utf-8", errors="replace")
            del self._buffer[: newline + 1]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[dict[str, Any]]:
        """Flushes an event the server left unterminated at the end of the body."""
        events = self.feed(b"\n") if self._buffer else []
        if not self.done and self._data:
            event = self._dispatch()
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> dict[str, Any] | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
            if sum(len(d) for d in self._data) > MAX_EVENT_BYTES:
                raise LLMProtocolError(f"stream event longer than {MAX_EVENT_BYTES} bytes")
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data.clear()
        if payload.strip() == DONE:
            self.done = True
            return None
        try:
            event = _DECODER.decode(payload)
        except msgspec.DecodeError as exc:
            raise LLMProtocolError(f"stream event is not JSON: {payload[:200]!r}") from exc
        if not isinstance(event, dict):
            raise LLMProtocolError(f"stream event is not a JSON object: {payload[:200]!r}")
        return event
