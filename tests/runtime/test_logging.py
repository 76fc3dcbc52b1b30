from __future__ import annotations

import json

import pytest
import structlog

from runtime.logging import configure_logging, get_logger


def test_json_lines_with_secrets_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "info")
    try:
        get_logger("test").info("inbound.accepted", conversation_id="c1", access_token="s3cret", count=2)
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        structlog.reset_defaults()
    record = json.loads(line)
    assert record["event"] == "inbound.accepted"
    assert record["level"] == "info"
    assert record["access_token"] == "[redacted]"
    assert record["count"] == 2
    assert record["timestamp"].endswith("Z")
    assert "s3cret" not in line
