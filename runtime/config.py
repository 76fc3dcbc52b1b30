"""Settings from BOTRT_* environment variables, validated once with msgspec."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import msgspec

from runtime.errors import ConfigError

PREFIX = "BOTRT_"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every setting botrt reads from the environment (BOTRT_<NAME>)."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: str = ".botrt"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    bots: str = "./bots"
    secret_key: str | None = None
    # Operator token for the live-agent console and /api/v1 until API keys arrive; unset: refused.
    admin_token: str | None = None
    # Conversations with no message for this many seconds end (the next message starts anew).
    idle_timeout: float = 24 * 3600.0
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Voice notes: a faster-whisper model name or path (default: the bundled tiny.en).
    whisper_model: str | None = None
    whisper_device: str = "cpu"
    # Pipeline sizing: lanes run in parallel, each holds a bounded queue. A lane waits for its
    # turn's commit (and the outbox's lanes for the platform and the sent mark), so lanes, not
    # CPU, bounded throughput at 64: about 530 replies/s where 256 lanes deliver what the CPU
    # allows (loadtests/webhooks.py, docs/benchmarks.md). Idle lanes cost a task and a queue.
    lanes: int = 256
    lane_queue_size: int = 64  # 256 x 64: the same 16k events of buffer as 64 x 256 before
    # Seconds SIGTERM waits for in-flight messages before giving up.
    drain_timeout: float = 20.0
    # Group commit: a batch flushes when full or this many milliseconds after its first item.
    commit_delay_ms: float = 2.0
    commit_batch_size: int = 256
    db_pool_size: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError("BOTRT_PORT", f"{self.port} is not a TCP port (1-65535)")
        for name in ("lanes", "lane_queue_size", "commit_batch_size", "db_pool_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"BOTRT_{name.upper()}", "must be at least 1")

    @property
    def base_url(self) -> str:
        """The public base URL platforms call and sign."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Builds Settings from BOTRT_* variables; the error names the bad variable."""
    env = os.environ if environ is None else environ
    raw = {
        key[len(PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(PREFIX) and value != ""
    }
    known = set(Settings.__struct_fields__)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says "Expected `int`, got `str` - at `$.port`": turn the path into the variable.
        message = str(exc)
        field = message.rsplit("$.", 1)[-1].strip("`") if "$." in message else ""
        variable = f"{PREFIX}{field.upper()}" if field in known else "BOTRT_*"
        raise ConfigError(variable, message.split(" - at")[0]) from exc
