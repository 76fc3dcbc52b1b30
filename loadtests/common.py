"""Shared pieces of the load generators: a server under test, percentiles, tables, plots."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_probe() -> float:
    """Seconds a fixed pure-Python loop (3M additions) takes here and now.

    The shared 2-core machines this runs on swing by 2x in speed from one hour to the next
    (neighbours); printing this beside the figures says which kind of hour they came from.
    """
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - started


def print_table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 24))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("-" * (width + 24))
    print(f"cpu probe (3M-addition Python loop, lower is faster): {cpu_probe():.2f} s")


@dataclass
class ServerUnderTest:
    """`botrt up` in a child process on loopback, with its own data directory."""

    process: asyncio.subprocess.Process
    port: int
    data_dir: Path
    # A data dir made here is removed when the server stops cleanly; one that was given, or
    # a failed run's (its server.log says why), is kept.
    owns_data_dir: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.owns_data_dir and self.process.returncode in (0, -signal.SIGTERM):
            shutil.rmtree(self.data_dir, ignore_errors=True)


async def start_server(
    bots: Path,
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> ServerUnderTest:
    """Starts `botrt up` serving the given bots and waits until /readyz says ready."""
    port = free_port()
    data = data_dir or Path(tempfile.mkdtemp(prefix="botrt-load-"))
    env = {
        **os.environ,
        "BOTRT_BOTS": str(bots),
        "BOTRT_PORT": str(port),
        "BOTRT_DATA_DIR": str(data),
        "BOTRT_LOG_FORMAT": "json",
        "BOTRT_LOG_LEVEL": "warning",
        "BOTRT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    if database_url:
        env["BOTRT_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    log = open(data / "server.log", "wb")  # noqa: SIM115, ASYNC230 - lives as long as the child; opening is quick
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "botrt", "up", cwd=REPO, env=env, stdout=log, stderr=log
    )
    server = ServerUnderTest(process=process, port=port, data_dir=data, owns_data_dir=data_dir is None)
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.returncode is not None:
                raise RuntimeError(f"botrt up exited with {process.returncode}; see {data / 'server.log'}")
            try:
                async with http.get(f"{server.base_url}/readyz") as response:
                    if response.status == 200:
                        return server
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    await server.stop()
    raise RuntimeError("botrt up did not become ready in 60 s")
