"""The botrt command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


MANUAL_STEPS = {
    "whatsapp": "Meta App Dashboard > WhatsApp > Configuration: Callback URL {url}, Verify token = the channel's "
    "verify_token; subscribe to the 'messages' field.",
    "instagram": "Meta App Dashboard > Instagram > Webhooks: Callback URL {url}, Verify token = the channel's "
    "verify_token; subscribe to 'messages', 'messaging_postbacks', 'message_reads'.",
    "slack": "api.slack.com/apps > your app > Event Subscriptions: Request URL {url} (Slack sends url_verification); "
    "subscribe to message.im, message.channels, app_mention. Interactivity & Shortcuts: Request URL {url}.",
    "sms": "Twilio Console > Phone Numbers > your number > Messaging: 'A message comes in' = Webhook {url} (HTTP POST). "
    "Twilio does not retry failed webhooks by default: set 'Primary handler fails' to a fallback URL.",
    "webchat": "Nothing to register: open {url} or embed {base}/chat/static/embed.js with data-botrt-slug.",
}


def _channel_url(settings: Settings, kind: str, slug: str) -> str:
    if kind == "webchat":
        return f"{settings.base_url}/chat/{slug}"
    return f"{settings.base_url}/hooks/{kind}/{slug}"


def cmd_channels(settings: Settings, args: argparse.Namespace) -> int:
    """Lists every channel with the URL to configure on its platform, or registers one."""
    from pathlib import Path

    from engine.botfile import load_bots

    bots = load_bots(Path(settings.bots))
    tables = {c["slug"]: (bot, c) for bot in bots for c in bot.channels}
    if args.action == "register":
        return asyncio.run(_register(settings, tables, args.slug))
    print(f"{'SLUG':<20} {'TYPE':<10} {'BOT':<16} URL")
    for slug, (bot, table) in sorted(tables.items()):
        print(f"{slug:<20} {table['type']:<10} {bot.bot.slug:<16} {_channel_url(settings, table['type'], slug)}")
    if settings.public_url is None:
        print("\nThese URLs use BOTRT_HOST:BOTRT_PORT; set BOTRT_PUBLIC_URL to the https address platforms reach.")
    return 0


async def _register(settings: Settings, tables: dict[str, Any], slug: str | None) -> int:
    import aiohttp

    from botrt.channels import build_adapter

    if slug not in tables:
        print(f"botrt channels register: no channel {slug!r}; run `botrt channels` to list them", file=sys.stderr)
        return 2
    _bot, table = tables[slug]
    kind = table["type"]
    url = _channel_url(settings, kind, slug)
    if kind != "telegram":
        print(MANUAL_STEPS.get(kind, "Configure {url} on the platform.").format(url=url, base=settings.base_url))
        return 0
    async with aiohttp.ClientSession() as http:
        adapter = build_adapter(kind, table, http)
        await adapter.set_webhook(url, adapter.config.secret_token)  # type: ignore[attr-defined]
    print(f"Telegram setWebhook done: {url} (with secret_token: {'yes' if table.get('secret_token') else 'no'})")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Database maintenance: partitions ahead, retention, analytics views."""
    from botrt.database import database_dsn
    from botrt.services import migrate_database
    from storage.maintenance import maintain
    from storage.pool import connect_admin

    async def run() -> int:
        async with database_dsn(settings) as dsn:
            await migrate_database(dsn)
            con = await connect_admin(dsn)
            try:
                report = await maintain(con)
            finally:
                await con.close()
        print(f"partitions created: {len(report.created_partitions)} {list(report.created_partitions)}")
        print(f"partitions retired: {len(report.dropped_partitions)} {list(report.dropped_partitions)}")
        print(f"rows moved out of default partitions: {report.drained_default_rows}")
        print(f"rows deleted past retention: {sum(report.deleted_rows.values())} {report.deleted_rows}")
        print(f"dedupe keys pruned: {report.pruned_dedupe_keys}; audit checkpoints: {report.audit_checkpoints}")
        print(f"analytics views refreshed: {', '.join(report.refreshed_views) or 'none'}")
        return 0

    return asyncio.run(run())


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Verifies the hash chain of the audit trail; exit 1 when any link is broken."""
    from botrt.database import database_dsn
    from storage.audit import verify_audit_chain
    from storage.pool import connect_admin

    async def run() -> int:
        async with database_dsn(settings) as dsn:
            con = await connect_admin(dsn)
            try:
                result = await verify_audit_chain(con, args.org)
            finally:
                await con.close()
        print(f"organizations checked: {result.orgs_checked}; rows checked: {result.rows_checked}")
        for item in result.breaks:
            print(f"BROKEN org {item.org_id} at chain_seq {item.chain_seq}: {item.problem}"
                  + (f" (row {item.row_id})" if item.row_id else ""))
        print("audit trail intact" if result.ok else f"audit trail BROKEN in {len(result.broken_orgs)} organization(s)")
        return 0 if result.ok else 1

    return asyncio.run(run())


def _bot_path(settings: Settings, bot: str) -> Path:
    """A bot file path, or the file in BOTRT_BOTS whose [bot] slug is bot."""
    from engine.botfile import load_bots

    path = Path(bot)
    if path.is_file():
        return path
    for loaded in load_bots(Path(settings.bots)):
        if loaded.bot.slug == bot:
            return Path(loaded.path)
    raise BotrtError(f"no bot {bot!r}: give a bot file or the slug of a bot in {settings.bots}")


def cmd_nlu(settings: Settings, args: argparse.Namespace) -> int:
    """Accuracy and per-intent precision, recall and F1 on a held-out file."""
    from engine.nlu.evaluate import evaluate_files, format_report

    report = asyncio.run(evaluate_files(_bot_path(settings, args.bot), Path(args.heldout)))
    print(format_report(report))
    return 0


def cmd_kb(settings: Settings, args: argparse.Namespace) -> int:
    """Ingests documents into a bot's knowledge base, with a progress bar."""
    from botrt.kb import kb_ingest

    return kb_ingest(settings, args.bot, args.paths)


def cmd_secret_key(_settings: Settings, _args: argparse.Namespace) -> int:
    """Prints a new value for BOTRT_SECRET_KEY."""
    from storage.secrets import new_key

    print(new_key())
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
    channels = sub.add_parser("channels", help="list channels and their callback URLs; register one")
    channels.add_argument("action", nargs="?", choices=["list", "register"], default="list")
    channels.add_argument("slug", nargs="?", help="the channel to register")
    channels.set_defaults(func=cmd_channels)
    sub.add_parser("secret-key", help="print a new BOTRT_SECRET_KEY").set_defaults(func=cmd_secret_key)
    kb = sub.add_parser("kb", help="knowledge base tasks")
    kb.add_argument("action", choices=["ingest"], help="ingest: text, Markdown, HTML and PDF files or folders")
    kb.add_argument("bot", help="the bot's slug (its file is found in BOTRT_BOTS)")
    kb.add_argument("paths", nargs="+", help="files or folders to ingest")
    kb.set_defaults(func=cmd_kb)
    nlu = sub.add_parser("nlu", help="NLU tasks")
    nlu.add_argument("action", choices=["test"], help="test: accuracy and per-intent F1 on a held-out file")
    nlu.add_argument("bot", help="a bot file, or the slug of a bot in BOTRT_BOTS")
    nlu.add_argument("heldout", help="JSONL lines {text, intent} or TOML [[examples]]")
    nlu.set_defaults(func=cmd_nlu)
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["maintain"], help="maintain: partitions, retention, analytics refresh")
    db.set_defaults(func=cmd_db)
    audit = sub.add_parser("audit", help="audit trail tasks")
    audit.add_argument("action", choices=["verify"], help="verify: check every hash-chain link")
    audit.add_argument("--org", help="only this organization id")
    audit.set_defaults(func=cmd_audit)
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
