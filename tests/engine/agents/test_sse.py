"""The SSE decoder: framing, comments, split reads, [DONE], malformed events."""

from __future__ import annotations

import pytest

from engine.agents import LLMProtocolError, SSEDecoder


def test_events_split_across_reads_are_reassembled() -> None:
    decoder = SSEDecoder()
    stream = b'data: {"a": 1}\n\ndata: {"b"' + b': 2}\r\n\r\n'
    events = [event for i in range(len(stream)) for event in decoder.feed(stream[i : i + 1])]
    assert events == [{"a": 1}, {"b": 2}]


def test_comments_and_other_fields_are_ignored() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b": keep-alive\n\nevent: message\nid: 7\nretry: 10\ndata: {\"x\": true}\n\n: ping\n\n")
    assert events == [{"x": True}]


def test_multi_line_data_is_joined() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"x":\ndata: 1}\n\n') == [{"x": 1}]


def test_done_ends_the_stream() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"n": 1}\n\ndata: [DONE]\n\ndata: {"n": 2}\n\n') == [{"n": 1}]
    assert decoder.done
    assert decoder.feed(b'data: {"n": 3}\n\n') == []


def test_unterminated_last_event_is_flushed_on_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"n": 1}') == []
    assert decoder.close() == [{"n": 1}]


def test_data_that_is_not_a_json_object_is_a_protocol_error() -> None:
    with pytest.raises(LLMProtocolError):
        SSEDecoder().feed(b"data: not json\n\n")
    with pytest.raises(LLMProtocolError):
        SSEDecoder().feed(b"data: [1, 2]\n\n")
