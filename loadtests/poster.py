"""A wrk-like HTTP/1.1 load client on raw asyncio: N keep-alive connections, pre-formatted requests.

The load generator shares a 2-core machine with the server it measures, so every cycle it
spends is stolen from the system under test. aiohttp's ClientSession (a task, a context manager,
a CIMultiDict and a StreamReader per request) cost ~20-27% of a core at 1,000 requests/s; here a
request is one transport.write of bytes formatted by the caller and a response is one pass of
llhttp (httptools) with a single Python callback when it is complete, so the whole client costs
a few microseconds a request.

One request is in flight per connection at a time (no pipelining, as a browser or a platform's
webhook sender does). Two ways to drive it:

- closed loop (`closed_loop`): every connection sends its next request as soon as the previous
  answer arrives, until the deadline: the server's saturation throughput.
- open loop (`open_loop`): requests are due at a fixed rate whatever the answers do, and go out
  on idle connections. When all connections are busy, due requests queue, and their latency (and
  sent time) counts from when they were due, not from when a connection freed up: a stalling
  server cannot hide its stall by slowing the generator (coordinated omission).

Waking up is what costs here: on these VMs one timer wake-up of an idle process costs 30-80 us of
CPU, more than a request. So the open loop sends what is due whenever the loop is awake anyway
(an answer arrived), and its timer only fires when no answer came within LATENESS of a request
falling due: at 800/s that halves the wake-ups. The price is a send time jittered by up to 2-3 ms
(the rate holds); a request that goes out on an idle connection counts its time from when it went
out, so that jitter, the generator's own, is not charged to the server.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import cast

import httptools

LATENESS = 0.002  # seconds: the most an open-loop request goes out after it is due (an idle wait)


def request_bytes(method: str, target: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 request, ready to write; Content-Length is added here."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection; llhttp parses the answers (Content-Length, chunked, keep-alive)."""

    def __init__(self, poster: Poster) -> None:
        self.poster = poster
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.started = 0.0  # perf_counter the latency of the request in flight counts from

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport:
                self.transport.close()  # connection_lost counts the request in flight as an error

    def on_message_complete(self) -> None:  # the only parser callback defined: the cheapest parse
        self.poster._answered(self, self.parser.get_status_code(), self.parser.should_keep_alive())

    def connection_lost(self, exc: Exception | None) -> None:
        self.poster._lost(self)


class Poster:
    """Posts make_request(id) for ids 1, 2, ... over `concurrency` connections and records the answers.

    A connection the server closes is replaced (its request in flight counts as an error); one
    that cannot be reopened is retired. Answers are a body read whole and thrown away.
    """

    def __init__(self, *, host: str, port: int, make_request: Callable[[int], bytes], concurrency: int) -> None:
        self._host = host
        self._port = port
        self._make_request = make_request
        self._concurrency = concurrency
        self._ids = itertools.count(1)
        self._idle: list[_Connection] = []
        self._conns: set[_Connection] = set()  # open
        self._connecting = 0  # replacements being opened
        self._in_flight = 0
        self._backlog: deque[tuple[int, float]] = deque()  # open loop: (id, due at) waiting for a connection
        self._scheduling = False  # open loop: requests are still to fall due
        self._interval = 0.0  # open loop: seconds between due times
        self._due_count = 0  # open loop: requests that fall due in all
        self._made_due = 0  # open loop: requests made due so far (sent or queued)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_for = -1  # the _made_due the timer was set for: no need to set it again
        self._deadline = 0.0  # closed loop: no new request after this perf_counter
        self._closing = False
        self._done: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._wall_offset = 0.0  # time.time() - perf_counter(): sent times on the wall clock, cheaply
        # Results
        self.start = 0.0  # perf_counter when the load began
        self.finished = 0.0  # perf_counter when the last answer arrived
        self.sent_at: dict[int, float] = {}  # id -> wall clock it was sent (open loop: due)
        self.acks: list[float] = []  # seconds from sent (due) to answered
        self.ack_times: list[tuple[float, float]] = []  # (sent, seconds after start; ack latency)
        self.statuses: dict[int, int] = {}
        self.errors = 0  # requests that got no answer: connection lost, refused or timed out

    async def connect(self) -> None:
        """Opens every connection before the clock starts, as wrk does."""
        for conn in await asyncio.gather(*(self._open() for _ in range(self._concurrency))):
            self._idle.append(conn)

    async def closed_loop(self, duration: float, grace: float) -> None:
        """Each connection sends again as soon as it is answered, for `duration` seconds."""
        self._begin()
        self._deadline = self.start + duration
        idle, self._idle = self._idle, []
        for conn in idle:
            self._next(conn)
        await self._drain(self._deadline + grace)

    async def open_loop(self, rate: float, duration: float, grace: float) -> None:
        """Requests due every 1/rate seconds for `duration` seconds, queued while no connection is idle."""
        self._begin()
        self._interval = 1 / rate
        self._due_count = math.ceil(duration * rate)  # due at start + k * interval for k < count
        self._scheduling = True
        self._send_due()
        await self._drain(self.start + duration + grace)

    def _on_timer(self) -> None:
        self._timer = None
        self._send_due()

    def _send_due(self) -> None:
        """Sends (or queues) every request due by now and sets the timer for the next one."""
        now = time.perf_counter()
        due = min(self._due_count, int((now - self.start) / self._interval) + 1)
        while self._made_due < due:
            self._submit(self.start + self._made_due * self._interval, now)
            self._made_due += 1
        if self._timer is not None:
            if self._timer_for == self._made_due:
                return  # nothing fell due: the timer is still right
            self._timer.cancel()  # cheap: a timer only costs when the loop sleeps until it
            self._timer = None
        if self._made_due < self._due_count:
            next_due = self.start + self._made_due * self._interval
            # At least a millisecond too: uvloop's timers count whole milliseconds, and a shorter
            # wait would return at once and spin.
            wait = max(0.001, next_due + LATENESS - now)
            self._timer = asyncio.get_running_loop().call_later(wait, self._on_timer)
            self._timer_for = self._made_due
        elif self._scheduling:
            self._scheduling = False
            self._check_done()

    def close(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        for conn in list(self._conns):
            if conn.transport:
                conn.transport.close()
        self._idle.clear()

    def _begin(self) -> None:
        self._done = asyncio.get_running_loop().create_future()
        self.start = time.perf_counter()
        self._wall_offset = time.time() - self.start

    async def _drain(self, until: float) -> None:
        """Waits for the last answers; what is still unanswered at `until` (perf_counter) counts as errors."""
        assert self._done is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._done), max(0.0, until - time.perf_counter()))
        except TimeoutError:
            for conn in self._conns:
                if conn.busy:
                    conn.busy = False  # counted here, not again when close() loses its connection
                    self.errors += 1
            self._in_flight = 0
            self.errors += len(self._backlog)
            self._backlog.clear()
            self.close()
        self.finished = time.perf_counter()

    def _submit(self, due: float, now: float) -> None:
        update_id = next(self._ids)
        if self._idle:
            # Out now, on an idle connection: the time counts from now. Up to LATENESS after its due
            # time; that delay is the generator's own timer, not the server's doing.
            self.sent_at[update_id] = now + self._wall_offset
            self._send(self._idle.pop(), update_id, now)
            return
        # Every connection is busy (the server is behind): it waits, and the time counts from when it
        # was due, so the wait is the server's.
        self.sent_at[update_id] = due + self._wall_offset
        if self._conns or self._connecting:
            self._backlog.append((update_id, due))
        else:
            self.errors += 1  # every connection is gone and none can be reopened

    def _send(self, conn: _Connection, update_id: int, started: float) -> None:
        request = self._make_request(update_id)
        assert conn.transport is not None
        conn.busy = True
        conn.started = started
        self._in_flight += 1
        conn.transport.write(request)

    def _next(self, conn: _Connection) -> None:
        """Gives an idle connection its next request, or parks it."""
        if self._backlog:
            update_id, due = self._backlog.popleft()
            self._send(conn, update_id, due)
            return
        now = time.perf_counter()
        if now < self._deadline:
            update_id = next(self._ids)
            self.sent_at[update_id] = now + self._wall_offset
            self._send(conn, update_id, now)
            return
        self._idle.append(conn)
        self._check_done()

    def _check_done(self) -> None:
        if self._scheduling or self._in_flight or self._backlog or self._connecting:
            return
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _answered(self, conn: _Connection, status: int, keep_alive: bool) -> None:
        if status < 200:  # 100 Continue and friends: the real answer follows
            return
        latency = time.perf_counter() - conn.started
        self.acks.append(latency)
        self.ack_times.append((conn.started - self.start, latency))
        self.statuses[status] = self.statuses.get(status, 0) + 1
        conn.busy = False
        self._in_flight -= 1
        if not keep_alive and conn.transport:
            conn.transport.close()  # connection_lost opens its replacement
        else:
            self._next(conn)
        if self._scheduling:
            self._send_due()  # awake anyway: what fell due since goes out now, not at the timer

    def _lost(self, conn: _Connection) -> None:
        self._conns.discard(conn)
        if conn.busy:
            conn.busy = False
            self._in_flight -= 1
            self.errors += 1
        if conn in self._idle:
            self._idle.remove(conn)
        if self._closing:
            return
        self._connecting += 1
        task = asyncio.get_running_loop().create_task(self._replace(), name="poster-reconnect")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _replace(self) -> None:
        try:
            conn = await self._open()
        except OSError:
            conn = None
        finally:
            self._connecting -= 1
        if conn is not None:
            self._next(conn)
            return
        if not self._conns and not self._connecting:  # the last one: nothing will ever send the backlog
            self.errors += len(self._backlog)
            self._backlog.clear()
        self._check_done()

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: _Connection(self), self._host, self._port)
        self._conns.add(conn)
        return conn
