"""What every fake platform server shares: an aiohttp app on loopback and the platform's side of the wire.

A fake subclasses LoopbackServer, lists its routes in ``_routes`` and builds its URLs on
``origin``; tests use it as ``async with FakeThing() as fake``.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

import aiohttp
from aiohttp import web


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the webhook answered to a delivered request."""

    status: int
    body: bytes
    content_type: str


class LoopbackServer(abc.ABC):
    """An aiohttp app on 127.0.0.1, an ephemeral port; use as an async context manager.

    A fake adds its routes in `_routes`, notes each request with `_recorded` (which wakes
    `_wait_until`), holds answers with `_sleep` and plays the platform's side of a webhook
    through `_client()`.
    """

    # AppRunner options. handler_cancellation: a client that timed out must not leave a handler
    # sleeping; shutdown_timeout: close never waits long on one.
    _runner_options: ClassVar[Mapping[str, Any]] = {
        "access_log": None,
        "handler_cancellation": True,
        "shutdown_timeout": 1.0,
    }

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._origin: str | None = None
        self._port = 0

    @abc.abstractmethod
    def _routes(self) -> Iterable[web.AbstractRouteDef]:
        """The fake's routes."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Starts listening on loopback; origin (and the fake's URLs) are valid afterwards."""
        self._closing = asyncio.Event()
        app = web.Application()
        app.add_routes(self._routes())
        self._runner = web.AppRunner(app, **self._runner_options)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        host, port = self._runner.addresses[0][:2]
        self._port = int(port)
        self._origin = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stops the server and cuts short any answer held by `_sleep`."""
        self._closing.set()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def origin(self) -> str:
        """http://127.0.0.1:<port>, once started."""
        if self._origin is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} is not started; use `async with {name}() as fake`")
        return self._origin

    @property
    def port(self) -> int:
        """The port it listens (or last listened) on; 0 before the first start."""
        return self._port

    def _client(self) -> aiohttp.ClientSession:
        """The session that plays the platform calling out (webhooks); made on first use."""
        if self._runner is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _post(self, url: str, data: bytes | str, headers: Mapping[str, str]) -> Delivery:
        """POSTs as the platform would; returns what the webhook answered."""
        async with self._client().post(url, data=data, headers=headers) as response:
            return Delivery(status=response.status, body=await response.read(), content_type=response.content_type)

    def _recorded(self) -> None:
        """Something was recorded: wakes `_wait_until`."""
        self._changed.set()

    async def _wait_until(self, ready: Callable[[], bool], within: float | None) -> None:
        """Returns once ready() holds, checked after each recording; TimeoutError after within seconds."""
        async with asyncio.timeout(within):
            while not ready():
                self._changed.clear()
                await self._changed.wait()

    async def _sleep(self, seconds: float) -> bool:
        """Sleeps unless the fake closes first (so cleanup never waits on a held answer); False if it closed."""
        if seconds <= 0:
            return not self._closing.is_set()
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except TimeoutError:
            return True
        return False
