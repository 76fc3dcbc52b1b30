"""A widget client for tests: the real websocket protocol over the websockets library."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

_ids = itertools.count()
Frame = dict[str, Any]


class ChatClient:
    """Connects to /chat/{slug}/ws, says hello, sends messages and collects frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.session: str | None = None
        self.messages: list[Frame] = []
        self.frames: list[Frame] = []

    @classmethod
    async def connect(
        cls,
        ws_base: str,
        slug: str,
        *,
        session: str | None = None,
        last_seq: int | None = None,
        origin: str | None = None,
    ) -> ChatClient:
        headers = {"Origin": origin} if origin else None
        ws = await websockets.connect(f"{ws_base}/chat/{slug}/ws", additional_headers=headers, max_size=2**20)
        client = cls(ws)
        hello: Frame = {"type": "hello"}
        if session is not None:
            hello["session"] = session
        if last_seq is not None:
            hello["last_seq"] = last_seq
        await client.send_frame(hello)
        welcome = await client.next_frame(lambda f: f["type"] == "welcome")
        client.session = welcome["session"]
        return client

    async def send_frame(self, frame: Frame | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next_frame(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> Frame:
        """The next frame matching predicate; frames before it are recorded too."""
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.ws.recv())
                self.frames.append(frame)
                if frame["type"] == "message":
                    self.messages.append(frame)
                if predicate(frame):
                    return frame

    async def say(self, text: str, client_id: str | None = None) -> Frame:
        """Sends a message and waits for its ack."""
        cid = client_id or f"c{next(_ids)}"
        await self.send_frame({"type": "message", "text": text, "client_id": cid})
        return await self.next_frame(lambda f: f["type"] == "ack" and f["client_id"] == cid)

    async def reply_containing(self, needle: str, timeout: float = 10.0) -> Frame:
        for frame in self.messages:
            if needle in frame["text"]:
                return frame
        return await self.next_frame(lambda f: f["type"] == "message" and needle in f["text"], timeout)

    async def close(self) -> None:
        await self.ws.close()
