"""Widget load: N concurrent websocket sessions each sending M messages at an aggregate rate.

Prints sessions, messages/s, round-trip latency percentiles (message sent -> bot reply
received, every message persisted on the way) and the server's memory per idle session.

    python -m loadtests.webchat --sessions 1000 --messages 20 --rate 500 --plot loadtests/out/webchat.png

Without --url it starts `botrt up` itself (embedded PostgreSQL in a temporary data dir) with
the echo bot of loadtests/bots/webchat/, and stops it at the end. Targets only loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

from loadtests.common import HERE, ServerUnderTest, percentile, print_table, start_server


@dataclass
class Session:
    index: int
    ws: websockets.ClientConnection
    sent_at: dict[str, float] = field(default_factory=dict)
    acked_at: dict[str, float] = field(default_factory=dict)
    rtts: list[tuple[float, float]] = field(default_factory=list)  # (completed at, seconds)
    ack_latencies: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    echoes: list[str] = field(default_factory=list)
    errors: int = 0


async def _open(ws_url: str, index: int, greeting: str) -> Session:
    ws = await websockets.connect(ws_url, max_size=2**20, open_timeout=30, ping_interval=None)
    await ws.send(json.dumps({"type": "hello"}))
    session = Session(index=index, ws=ws)
    async with asyncio.timeout(60):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message":
                session.seqs.append(frame["seq"])
                if greeting in frame["text"]:
                    return session


async def _receive(session: Session, expected: int) -> None:
    while len(session.echoes) < expected:
        frame = json.loads(await session.ws.recv())
        now = time.perf_counter()
        match frame["type"]:
            case "ack":
                cid = frame["client_id"]
                session.ack_latencies.append(now - session.sent_at[cid])
            case "message":
                session.seqs.append(frame["seq"])
                text = frame["text"]
                if text.startswith("echo: "):
                    cid = text[len("echo: ") :]
                    session.echoes.append(cid)
                    session.rtts.append((now, now - session.sent_at[cid]))
            case "error":
                session.errors += 1


async def _send(session: Session, messages: int, interval: float, start: float) -> None:
    # Spread sessions evenly over one interval so the aggregate rate is smooth.
    next_at = start + interval * random.random()
    for n in range(messages):
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        cid = f"{session.index}-{n}"
        session.sent_at[cid] = time.perf_counter()
        await session.ws.send(json.dumps({"type": "message", "text": cid, "client_id": cid}))
        next_at += interval


def _rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


async def run(args: argparse.Namespace) -> int:
    server: ServerUnderTest | None = None
    if args.url:
        base, pid = args.url.rstrip("/"), args.pid
    else:
        server = await start_server(HERE / "bots" / "webchat", database_url=args.database_url)
        base, pid = server.base_url, server.pid
    ws_url = base.replace("http", "ws", 1) + f"/chat/{args.slug}/ws"
    try:
        gc.collect()
        rss_before = _rss(pid) if pid else 0
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(args.connect_concurrency)

        async def open_one(i: int) -> Session:
            async with semaphore:
                return await _open(ws_url, i, args.greeting)

        sessions = await asyncio.gather(*(open_one(i) for i in range(args.sessions)))
        connect_s = time.perf_counter() - started
        await asyncio.sleep(args.settle)
        rss_idle = _rss(pid) if pid else 0
        per_session = (rss_idle - rss_before) / args.sessions if pid else float("nan")

        interval = args.sessions / args.rate
        start = time.perf_counter()
        receivers = [asyncio.create_task(_receive(s, args.messages)) for s in sessions]
        senders = [asyncio.create_task(_send(s, args.messages, interval, start)) for s in sessions]
        await asyncio.gather(*senders)
        sent_done = time.perf_counter()
        done, pending = await asyncio.wait(receivers, timeout=args.timeout)
        for task in pending:
            task.cancel()
        finished = max((t for s in sessions for t, _ in s.rtts), default=sent_done)
        elapsed = finished - start
        for s in sessions:
            await s.ws.close()
    finally:
        if server is not None:
            await server.stop()

    rtts = [rtt for s in sessions for _, rtt in s.rtts]
    acks = [a for s in sessions for a in s.ack_latencies]
    expected = args.sessions * args.messages
    lost = expected - len(rtts)
    reordered = sum(
        1
        for s in sessions
        if s.echoes != [f"{s.index}-{n}" for n in range(len(s.echoes))] or s.seqs != sorted(s.seqs)
    )
    errors = sum(s.errors for s in sessions)
    ms = 1000.0
    print_table(
        f"webchat load: {args.sessions} sessions x {args.messages} messages at {args.rate:g} msg/s target",
        [
            ("sessions", str(args.sessions)),
            ("connect + greeting, all sessions", f"{connect_s:.2f} s"),
            ("messages sent / replies received", f"{expected} / {len(rtts)}"),
            ("lost / reordered sessions / error frames", f"{lost} / {reordered} / {errors}"),
            ("throughput (replies/s)", f"{len(rtts) / elapsed:.1f}" if elapsed > 0 else "n/a"),
            ("round trip p50 / p95 / p99", " / ".join(f"{percentile(rtts, q) * ms:.1f} ms" for q in (50, 95, 99))),
            ("round trip max", f"{max(rtts, default=float('nan')) * ms:.1f} ms"),
            ("ack p50 / p99", " / ".join(f"{percentile(acks, q) * ms:.1f} ms" for q in (50, 99))),
            ("server RSS before / with idle sessions", f"{rss_before / 2**20:.1f} / {rss_idle / 2**20:.1f} MiB"),
            ("server memory per idle session", f"{per_session / 1024:.1f} KB"),
        ],
    )
    if args.plot:
        _plot(sessions, start, Path(args.plot), args)
    return 1 if lost or reordered else 0


def _plot(sessions: list[Session], start: float, path: Path, args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = sorted((t - start, rtt * 1000) for s in sessions for t, rtt in s.rtts)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.scatter([p[0] for p in points], [p[1] for p in points], s=2, alpha=0.4)
    left.set(xlabel="time since start (s)", ylabel="round trip (ms)", title="Round trip over time")
    right.hist([p[1] for p in points], bins=60)
    right.set(xlabel="round trip (ms)", ylabel="messages", title="Round trip distribution")
    for q, style in ((50, "--"), (99, ":")):
        right.axvline(percentile([p[1] for p in points], q), linestyle=style, color="k", label=f"p{q}")
    right.legend()
    fig.suptitle(f"botrt webchat: {args.sessions} sessions x {args.messages} msgs at {args.rate:g} msg/s")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20, help="messages per session")
    parser.add_argument("--rate", type=float, default=500.0, help="aggregate messages per second")
    parser.add_argument("--url", help="an already running server (default: start botrt up)")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, for memory figures")
    parser.add_argument("--database-url", help="with no --url: BOTRT_DATABASE_URL for the started server")
    parser.add_argument("--slug", default="echo")
    parser.add_argument("--greeting", default="Say something.")
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds idle before measuring memory")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the last replies")
    parser.add_argument("--plot", help="write a PNG of the latencies here")
    args = parser.parse_args()
    if args.sessions < 1 or args.messages < 1 or args.rate <= 0:
        parser.error("--sessions, --messages and --rate must be positive")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
