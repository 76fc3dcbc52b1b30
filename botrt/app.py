"""The aiohttp application: health, readiness, metrics and the adapters' routes."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from botrt import collector
from botrt.services import Runtime, open_runtime
from runtime import metrics
from runtime.config import Settings
from runtime.hooks import HookRegistry
from storage.queries import QUERIES

RUNTIME: Final = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers and every schema file is applied."""
    runtime = request.app[RUNTIME]
    try:
        async with runtime.pool.acquire(timeout=2) as con:
            rows = await con.fetch(QUERIES["migrations/select_applied"])
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        return web.json_response({"status": "unavailable", "database": repr(exc)}, status=503)
    applied = {r["filename"] for r in rows}
    missing = sorted(runtime.expected_migrations - applied)
    if missing:
        return web.json_response({"status": "unavailable", "pending_migrations": missing}, status=503)
    return web.json_response({"status": "ready", "migrations": len(applied)})


async def metrics_view(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    runtime = request.app[RUNTIME]
    metrics.QUEUE_DEPTH.set(runtime.bus.depth())
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _close_sockets(app: web.Application) -> None:
    await app[RUNTIME].webchat.close_all()


async def build_app(
    settings: Settings, *, hooks: HookRegistry | None = None, stop_embedded: bool = True
) -> web.Application:
    """Opens the runtime, then builds the application whose cleanup closes it."""
    stack = AsyncExitStack()
    runtime = await stack.enter_async_context(open_runtime(settings, hooks=hooks, stop_embedded=stop_embedded))
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_view),
            *runtime.webchat.routes(),
            *runtime.ingress.routes(),
            *runtime.desk.routes(),
        ]
    )
    app.on_shutdown.append(_close_sockets)

    async def close_runtime(_app: web.Application) -> None:
        await stack.aclose()

    app.on_cleanup.append(close_runtime)
    collector.tune_for_serving()
    return app
