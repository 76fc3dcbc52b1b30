"""Whole-system fixtures: the real app serving platform channels pointed at fake platforms."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from runtime.config import Settings
from tests.conftest import LiveServer, start_server

ECHO_FLOW = """
[flow]
start = "listen"

[[flow.nodes]]
id = "listen"
kind = "ask"
slot = "said"
next = "echo"

[[flow.nodes]]
id = "echo"
kind = "say"
text = "echo: {{ said }}"
next = "listen"
"""


def write_bot(directory: Path, slug: str, channel: str, flow: str = ECHO_FLOW) -> Path:
    """A bot file with one platform channel table (TOML text) and the echo flow."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{slug}.toml"
    path.write_text(f'[bot]\nslug = "{slug}"\nname = "{slug}"\norg = "{slug}-org"\n\n{channel}\n{flow}')
    return path


@pytest.fixture
def platform_settings(database_url: str, tmp_path: Path) -> Callable[[Path], Settings]:
    def make(bots: Path) -> Settings:
        return Settings(
            database_url=database_url,
            bots=str(bots),
            data_dir=str(tmp_path / "data"),
            public_url="https://bots.example.org",
            drain_timeout=2.0,
        )

    return make


@pytest.fixture
async def servers() -> AsyncIterator[list[LiveServer]]:
    """Closes every server a test started, even when it fails."""
    started: list[LiveServer] = []
    yield started
    for server in started:
        await server.close()


async def serve(servers: list[LiveServer], settings: Settings, **kwargs: object) -> LiveServer:
    server = await start_server(settings, **kwargs)  # type: ignore[arg-type]
    servers.append(server)
    return server
