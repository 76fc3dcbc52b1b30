"""Reading an HTTP body with a size cap, checked while streaming rather than after."""

from __future__ import annotations

from typing import Final

import aiohttp

_CHUNK: Final = 64 * 1024


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None once it passes limit bytes (a declared Content-Length over it: at once)."""
    if response.content_length is not None and response.content_length > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
