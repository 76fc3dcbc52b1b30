"""Webhook load: signed Telegram updates at a chosen rate, answered through a fake Bot API.

Prints accepted/s, ack latency p50/p99, replies/s received by the fake platform, end-to-end
latency (update sent -> reply received by the platform) and messages per database commit.

    python -m loadtests.webhooks --rate 800 --duration 20            # open loop at 800 updates/s
    python -m loadtests.webhooks --rate 0 --concurrency 128 --duration 20   # saturation

It starts `botrt up` itself (embedded PostgreSQL in a temporary data dir) with the echo bot of
loadtests/bots/telegram.toml pointed at an in-process fake of the Bot API that speaks its wire
format (sendMessage -> {"ok":true,"result":Message}). Targets only loopback; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from loadtests.common import HERE, free_port, percentile, print_table, start_server

TOKEN = "123456:LOADTEST-token"
SECRET = "load-secret_token"


@dataclass
class FakeBotApi:
    """The Bot API's sendMessage / sendChatAction, recording when each reply arrived."""

    replies: dict[int, float] = field(default_factory=dict)
    other: int = 0
    next_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        body = await request.json()
        if method == "sendMessage":
            text = body.get("text", "")
            match = re.fullmatch(r"echo: m(\d+)", text)
            if match:
                self.replies[int(match.group(1))] = time.perf_counter()
            else:
                self.other += 1
            message = {
                "message_id": next(self.next_id),
                "date": int(time.time()),
                "chat": {"id": body["chat_id"], "type": "private"},
                "text": text,
            }
            return web.json_response({"ok": True, "result": message})
        return web.json_response({"ok": True, "result": True})


def update(update_id: int, chat_id: int) -> dict[str, object]:
    """A spec-complete private-chat text Update."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Load"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Load"},
            "date": int(time.time()),
            "text": f"m{update_id}",
        },
    }


async def _metric(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    values: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'botrt_commit_batch_size_(sum|count)\{writer="(\w+)"\} ([0-9.e+]+)', line)
        if m:
            values[f"{m.group(2)}_{m.group(1)}"] = float(m.group(3))
    return values


async def run(args: argparse.Namespace) -> int:
    fake = FakeBotApi()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    fake_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", fake_port).start()
    server = await start_server(
        HERE / "bots",
        extra_env={
            "LOAD_TELEGRAM_TOKEN": TOKEN,
            "LOAD_TELEGRAM_SECRET": SECRET,
            "LOAD_TELEGRAM_API_BASE": f"http://127.0.0.1:{fake_port}",
        },
    )
    url = f"{server.base_url}/hooks/telegram/tgload"
    sent_at: dict[int, float] = {}
    acks: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    try:
        async with aiohttp.ClientSession(connector=connector) as http:
            before = await _metric(http, server.base_url)
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
            import json

            async def post(update_id: int) -> None:
                nonlocal errors
                body = json.dumps(update(update_id, 10_000 + update_id % args.chats)).encode()
                sent_at[update_id] = started = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                except aiohttp.ClientError:
                    errors += 1
                    return
                acks.append(time.perf_counter() - started)

            ids = itertools.count(1)
            start = time.perf_counter()
            deadline = start + args.duration
            tasks: set[asyncio.Task[None]] = set()
            if args.rate > 0:
                interval = 1 / args.rate
                next_at = start
                while next_at < deadline:
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    task = asyncio.create_task(post(next(ids)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    next_at += interval
                await asyncio.gather(*tasks)
            else:

                async def worker() -> None:
                    while time.perf_counter() < deadline:
                        await post(next(ids))

                await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            sent_done = time.perf_counter()
            total = len(sent_at)
            accepted = statuses.get(200, 0)
            wait_until = time.perf_counter() + args.timeout
            while len(fake.replies) < accepted and time.perf_counter() < wait_until:
                await asyncio.sleep(0.1)
            after = await _metric(http, server.base_url)
    finally:
        await server.stop()
        await runner.cleanup()

    e2e = [fake.replies[i] - sent_at[i] for i in fake.replies if i in sent_at]
    reply_times = sorted(fake.replies.values())
    reply_span = (reply_times[-1] - reply_times[0]) if len(reply_times) > 1 else float("nan")

    def per_commit(writer: str) -> str:
        count = after.get(f"{writer}_count", 0) - before.get(f"{writer}_count", 0)
        rows = after.get(f"{writer}_sum", 0) - before.get(f"{writer}_sum", 0)
        return f"{rows / count:.1f} ({int(rows)} in {int(count)} commits)" if count else "n/a"

    ms = 1000.0
    mode = f"{args.rate:g} updates/s open loop" if args.rate > 0 else f"saturation, {args.concurrency} in flight"
    print_table(
        f"telegram webhooks: {mode}, {args.duration:g} s, {args.chats} chats",
        [
            ("updates sent / accepted (200) / other", f"{total} / {accepted} / {total - accepted} {dict(statuses)}"),
            ("client errors", str(errors)),
            ("accepted/s", f"{accepted / (sent_done - start):.1f}"),
            ("ack p50 / p99", f"{percentile(acks, 50) * ms:.1f} / {percentile(acks, 99) * ms:.1f} ms"),
            ("replies received by the fake platform", f"{len(fake.replies)} (lost: {accepted - len(fake.replies)})"),
            ("replies/s at the fake platform", f"{len(reply_times) / reply_span:.1f}" if reply_span == reply_span else "n/a"),
            ("end to end p50 / p99", f"{percentile(e2e, 50) * ms:.1f} / {percentile(e2e, 99) * ms:.1f} ms"),
            ("messages per commit: inbox", per_commit("inbox")),
            ("messages per commit: turns", per_commit("turns")),
            ("messages per commit: outbox", per_commit("outbox")),
        ],
    )
    return 0 if len(fake.replies) == accepted else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=800.0, help="updates/s; 0 for saturation (closed loop)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight at most")
    parser.add_argument("--chats", type=int, default=1000, help="distinct Telegram chats")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last replies")
    args = parser.parse_args()
    if args.duration <= 0 or args.concurrency < 1 or args.chats < 1:
        parser.error("--duration, --concurrency and --chats must be positive")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
