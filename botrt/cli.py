"""The botrt command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from runtime.config import Settings, load_settings
from runtime.errors import BotrtError
from runtime.logging import configure_logging, get_logger

log = get_logger("botrt")


def _install_uvloop() -> None:
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    """Everything in one process: migrate, web, worker."""
    from aiohttp import web

    from botrt.app import build_app

    _install_uvloop()
    print(f"botrt: serving on {settings.base_url} (widget: {settings.base_url}/chat/<slug>)", file=sys.stderr)
    web.run_app(
        build_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=settings.drain_timeout,
    )
    return 0


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    """Applies pending schema files (the Procfile's release process)."""
    from botrt.database import database_dsn
    from botrt.services import migrate_database

    async def run() -> None:
        async with database_dsn(settings) as dsn:
            await migrate_database(dsn)

    asyncio.run(run())
    return 0


def cmd_needs_redis(settings: Settings, args: argparse.Namespace) -> int:
    print(
        f"botrt {args.command}: separate web and worker processes need the Redis bus "
        "(BOTRT_REDIS_URL), which is not built yet. Run `botrt up` for everything in one process.",
        file=sys.stderr,
    )
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="botrt", description="botrt: a real-time conversational runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run everything on the embedded defaults").set_defaults(func=cmd_up)
    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("web", help="HTTP and websockets only (needs the Redis bus)").set_defaults(func=cmd_needs_redis)
    sub.add_parser("worker", help="pipeline consumers only (needs the Redis bus)").set_defaults(func=cmd_needs_redis)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except BotrtError as exc:
        print(f"botrt: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    try:
        return int(args.func(settings, args))
    except BotrtError as exc:
        log.error("botrt.failed", error=str(exc), error_type=type(exc).__name__)
        print(f"botrt: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
