"""Webhook load: signed platform webhooks (Telegram, WhatsApp, SMS, Slack, Instagram) at a chosen
rate, answered through a fake of the platform's API.

Prints accepted/s, ack latency p50/p99, replies/s received by the fake platform, end-to-end
latency (update sent -> reply received by the platform) and messages per database commit.

    python -m loadtests.webhooks --rate 800 --duration 20            # open loop at 800 updates/s
    python -m loadtests.webhooks --channel whatsapp --rate 800      # or sms, slack, instagram
    python -m loadtests.webhooks --rate 0 --concurrency 128 --duration 20   # saturation

Each channel signs as its platform does: Telegram's secret-token header, Meta's
X-Hub-Signature-256 (WhatsApp Cloud API notifications, Instagram "object": "instagram" with
entry[].messaging[]), Twilio's X-Twilio-Signature over the public URL and sorted form
parameters, Slack's v0 HMAC over "v0:{timestamp}:{body}" (Events API event_callback with a
message event).

It starts `botrt up` itself (embedded PostgreSQL in a temporary data dir) with the echo bot of
loadtests/bots/<channel>/ pointed at a fake of the platform's API that speaks its wire format
(sendMessage, Graph POST /{node}/messages, Messages.json, chat.postMessage) in a process of its
own (loadtests/fake_bot_api.py). Targets only loopback; stops by itself.

Both sides of the measuring apparatus are kept cheap, since they share the machine with the
server: the webhooks go out through loadtests/poster.py (pre-formatted requests over --concurrency
keep-alive connections, like wrk) and the fake is a bare asyncio protocol. In open loop, an
update due while every connection is busy waits for one, and its ack and end-to-end latency count
from when it was due.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import msgspec

from loadtests.common import HERE, REPO, free_port, percentile, print_table, start_server
from loadtests.poster import Poster, request_bytes

TOKEN = "123456:LOADTEST-token"
SECRET = "load-secret_token"
# The Instagram professional account of loadtests/bots/instagram (its Graph node).
IG_USER = "17841400008460056"
# Bodies are encoded with msgspec rather than json.dumps: 0.5 us against 5-10 us a body, and
# compact JSON is as valid (the signatures cover whatever bytes are sent).
ENCODE = msgspec.json.encode


def _telegram(update_id: int, chat: int, url: str) -> tuple[bytes, dict[str, str]]:
    body = ENCODE(update(update_id, chat))
    return body, {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}


def _whatsapp(update_id: int, chat: int, url: str) -> tuple[bytes, dict[str, str]]:
    """A Cloud API notification with one text message, signed X-Hub-Signature-256 with the app secret."""
    envelope = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Load"}, "wa_id": str(chat)}],
            "messages": [{"from": str(chat), "id": f"wamid.in{update_id}", "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": f"m{update_id}"}}],
        }}]}],
    }
    body = ENCODE(envelope)
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


def _sms(update_id: int, chat: int, url: str) -> tuple[bytes, dict[str, str]]:
    """A Twilio incoming-message form, signed over the public URL and the sorted parameters."""
    sid = f"SM{update_id:032d}"
    params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", "AC" + "0" * 32), ("From", f"+1555{chat:07d}"),
              ("To", "+15005550006"), ("Body", f"m{update_id}"), ("NumMedia", "0")]
    signed = url + "".join(k + v for k, v in sorted(params))
    signature = base64.b64encode(hmac.new(SECRET.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    # urlencode costs 14 us; these values are letters, digits and '+' only, and '+' is the one
    # that needs escaping in a form (it would read as a space).
    body = "&".join(f"{k}={v}" for k, v in params).replace("+", "%2B").encode()
    return body, {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


def _slack(update_id: int, chat: int, url: str) -> tuple[bytes, dict[str, str]]:
    """An Events API event_callback with one direct message, signed v0 with the signing secret."""
    now = int(time.time())
    ts = f"{now}.{update_id:06d}"  # a message's ts is unique in its channel: the dedupe key
    envelope = {
        "token": "deprecated-verification-token",
        "team_id": "T0LOAD",
        "api_app_id": "A0LOAD",
        "event": {"type": "message", "channel": f"D{chat}", "channel_type": "im", "user": f"U{chat}",
                  "text": f"m{update_id}", "ts": ts, "event_ts": ts},
        "type": "event_callback",
        "event_id": f"Ev{update_id:010d}",
        "event_time": now,
        "authorizations": [{"team_id": "T0LOAD", "user_id": "U0LOADBOT", "is_bot": True}],
    }
    body = ENCODE(envelope)
    signed = b"v0:" + str(now).encode() + b":" + body
    signature = "v0=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    return body, {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": signature,
                  "Content-Type": "application/json"}


def _instagram(update_id: int, chat: int, url: str) -> tuple[bytes, dict[str, str]]:
    """A Messenger Platform notification (object "instagram") with one DM, signed X-Hub-Signature-256."""
    now_ms = int(time.time() * 1000)
    envelope = {
        "object": "instagram",
        "entry": [{"id": IG_USER, "time": now_ms, "messaging": [{
            "sender": {"id": str(chat)},
            "recipient": {"id": IG_USER},
            "timestamp": now_ms,
            "message": {"mid": f"mid.in{update_id}", "text": f"m{update_id}"},
        }]}],
    }
    body = ENCODE(envelope)
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


# channel -> (bot directory, hook slug, request builder, api_base path on the fake)
CHANNELS: dict[str, tuple[str, str, Callable[[int, int, str], tuple[bytes, dict[str, str]]], str]] = {
    "telegram": ("telegram", "tgload", _telegram, ""),
    "whatsapp": ("whatsapp", "waload", _whatsapp, "/v23.0"),
    "sms": ("sms", "smsload", _sms, ""),
    "slack": ("slack", "slload", _slack, "/api"),
    "instagram": ("instagram", "igload", _instagram, "/v23.0"),
}


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


async def _wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"the fake Bot API did not start on port {port}")


async def _sent_total(http: aiohttp.ClientSession, base: str) -> float:
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    match = re.search(r'botrt_messages_sent_total\{channel="[a-z]+"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


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
    folder, slug, build_request, api_path = CHANNELS[args.channel]
    fake_port = free_port()
    replies_file = Path(tempfile.mkdtemp(prefix="botrt-fake-")) / "replies.json"
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loadtests.fake_bot_api", "--port", str(fake_port), "--token", TOKEN,
        "--out", str(replies_file), cwd=REPO,
    )
    await _wait_for_port(fake_port)
    server = await start_server(
        HERE / "bots" / folder,
        extra_env={
            "LOAD_TOKEN": TOKEN,
            "LOAD_SECRET": SECRET,
            "LOAD_API_BASE": f"http://127.0.0.1:{fake_port}{api_path}",
        },
    )
    url = f"{server.base_url}/hooks/{args.channel}/{slug}"
    target = urlsplit(url)
    host = target.netloc

    def make_request(update_id: int) -> bytes:
        body, headers = build_request(update_id, 10_000 + update_id % args.chats, url)
        return request_bytes("POST", target.path, host, headers, body)

    poster = Poster(host="127.0.0.1", port=server.port, make_request=make_request, concurrency=args.concurrency)
    try:
        # aiohttp stays for the few /metrics reads; the load itself goes through the raw poster.
        async with aiohttp.ClientSession() as http:
            before = await _metric(http, server.base_url)
            await poster.connect()
            if args.rate > 0:
                await poster.open_loop(args.rate, args.duration, args.timeout)
            else:
                await poster.closed_loop(args.duration, args.timeout)
            poster.close()
            accepted = poster.statuses.get(200, 0)
            # Wait until the server's outbox has drained (sent counter stops moving) or timeout.
            wait_until = time.perf_counter() + args.timeout
            while time.perf_counter() < wait_until:
                sent = await _sent_total(http, server.base_url)
                if sent >= accepted:
                    break
                await asyncio.sleep(0.2)
            after = await _metric(http, server.base_url)
    finally:
        poster.close()
        await server.stop()
        fake.terminate()
        await fake.wait()
    sent_at, acks, ack_times, statuses = poster.sent_at, poster.acks, poster.ack_times, poster.statuses
    start, sent_done, errors, total = poster.start, poster.finished, poster.errors, len(poster.sent_at)
    replies = {int(k): v for k, v in json.loads(replies_file.read_text()).items()}
    shutil.rmtree(replies_file.parent, ignore_errors=True)
    e2e = [replies[i] - sent_at[i] for i in replies if i in sent_at]
    # Steady state: the first --warmup seconds open a cold server's connections, prepare its
    # statements and create every chat's contact and conversation; a long-running service pays
    # that once, a 20-second run would let it decide the p99. Both are printed.
    first_sent = min(sent_at.values(), default=0.0)
    steady_acks = [a for t, a in ack_times if t >= args.warmup]
    steady_e2e = [replies[i] - sent_at[i] for i in replies if i in sent_at and sent_at[i] - first_sent >= args.warmup]
    reply_times = sorted(replies.values())
    reply_span = (reply_times[-1] - reply_times[0]) if len(reply_times) > 1 else float("nan")

    def per_commit(writer: str) -> str:
        count = after.get(f"{writer}_count", 0) - before.get(f"{writer}_count", 0)
        rows = after.get(f"{writer}_sum", 0) - before.get(f"{writer}_sum", 0)
        return f"{rows / count:.1f} ({int(rows)} in {int(count)} commits)" if count else "n/a"

    ms = 1000.0
    mode = f"{args.rate:g} updates/s open loop" if args.rate > 0 else f"saturation, {args.concurrency} in flight"
    print_table(
        f"{args.channel} webhooks: {mode}, {args.duration:g} s, {args.chats} chats",
        [
            ("updates sent / accepted (200) / other", f"{total} / {accepted} / {total - accepted} {dict(statuses)}"),
            ("client errors", str(errors)),
            ("accepted/s", f"{accepted / (sent_done - start):.1f}"),
            (f"ack p50 / p99 after the first {args.warmup:g} s",
             f"{percentile(steady_acks, 50) * ms:.1f} / {percentile(steady_acks, 99) * ms:.1f} ms"),
            ("ack p50 / p99 over the whole run",
             f"{percentile(acks, 50) * ms:.1f} / {percentile(acks, 99) * ms:.1f} ms"),
            ("replies received by the fake platform", f"{len(replies)} (lost: {accepted - len(replies)})"),
            ("replies/s at the fake platform",
             f"{len(reply_times) / reply_span:.1f}" if reply_span == reply_span else "n/a"),
            (f"end to end p50 / p99 after the first {args.warmup:g} s",
             f"{percentile(steady_e2e, 50) * ms:.1f} / {percentile(steady_e2e, 99) * ms:.1f} ms"),
            ("end to end p50 / p99 over the whole run",
             f"{percentile(e2e, 50) * ms:.1f} / {percentile(e2e, 99) * ms:.1f} ms"),
            ("messages per commit: inbox", per_commit("inbox")),
            ("messages per commit: turns", per_commit("turns")),
            ("messages per commit: outbox", per_commit("outbox")),
        ],
    )
    if args.plot:
        _plot(ack_times, [t - first_sent for t in reply_times], Path(args.plot), args)
    return 0 if len(replies) == accepted else 1


def _plot(ack_times: list[tuple[float, float]], replies: list[float], path: Path, args: argparse.Namespace) -> None:
    """Ack latency over the run (stalls show as columns) and updates/replies per second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.scatter([t for t, _ in ack_times], [a * 1000 for _, a in ack_times], s=2, alpha=0.4)
    left.set_yscale("log")
    left.set_xlabel("update sent at (s into the run)")
    left.set_ylabel("ack latency (ms)")
    left.set_title("webhook acks")
    end = int(max([t for t, _ in ack_times] + replies + [1.0])) + 1
    right.hist([t for t, _ in ack_times], bins=end, range=(0, end), histtype="step",
               label="updates acked (by send time)")
    right.hist(replies, bins=end, range=(0, end), histtype="step", label="replies at the fake platform")
    right.set_xlabel("s into the run")
    right.set_ylabel("per second")
    right.legend()
    mode = f"{args.rate:g}/s" if args.rate > 0 else f"saturation ({args.concurrency} in flight)"
    fig.suptitle(f"{args.channel} webhooks, {mode}, {args.duration:g} s")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=sorted(CHANNELS), default="telegram")
    parser.add_argument("--rate", type=float, default=800.0, help="updates/s; 0 for saturation (closed loop)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=128, help="requests in flight at most")
    parser.add_argument("--chats", type=int, default=1000, help="distinct chats (senders)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last replies")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds at the start left out of the steady-state latencies")
    parser.add_argument("--plot", help="write a PNG of ack latency and throughput over time here")
    args = parser.parse_args()
    if args.warmup < 0 or args.warmup >= args.duration:
        parser.error("--warmup must be at least 0 and shorter than --duration")
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
