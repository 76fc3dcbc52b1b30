"""Voice notes from chat platforms, transcribed so the bot handles them as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, final, runtime_checkable

import aiohttp

from adapters.download import read_capped
from engine.speech import WhisperTranscriber
from runtime.events import InboundMedia
from runtime.logging import get_logger

log = get_logger(__name__)

# The largest voice note fetched (WhatsApp allows 16 MB audio; Telegram bots get 20 MB files).
MAX_AUDIO_BYTES = 20 * 1024 * 1024


class VoiceNoteTooLarge(ValueError):
    """The audio is over MAX_AUDIO_BYTES: it is left as media, not transcribed."""


@runtime_checkable
class MediaFetcher(Protocol):
    """An adapter that downloads inbound media by the platform's media id (WhatsApp)."""

    async def fetch_media(self, media_id: str, *, max_bytes: int) -> bytes: ...


@runtime_checkable
class UrlFetcher(Protocol):
    """An adapter whose media URLs need its credentials to download (Slack's url_private)."""

    async def fetch_url(self, url: str, *, max_bytes: int) -> bytes: ...


@runtime_checkable
class FileUrlSource(Protocol):
    """An adapter that turns a platform file id into a download URL (Telegram getFile)."""

    async def get_file_url(self, file_id: str) -> str: ...


@final
class VoiceNoteTranscriber:
    """Transcriber port: fetches the audio through the channel's adapter, then whisper."""

    def __init__(self, whisper: WhisperTranscriber, adapters: Mapping[str, Any], http: aiohttp.ClientSession) -> None:
        self._whisper = whisper
        self._adapters = adapters  # channel_id -> adapter
        self._http = http

    async def _fetch(self, adapter: Any, event: InboundMedia) -> bytes | None:
        media = event.media
        if media.provider_id and isinstance(adapter, MediaFetcher):
            # The adapter enforces the cap while streaming (MediaTooLarge past it).
            return await adapter.fetch_media(media.provider_id, max_bytes=MAX_AUDIO_BYTES)
        if media.url and isinstance(adapter, UrlFetcher):
            return await adapter.fetch_url(media.url, max_bytes=MAX_AUDIO_BYTES)
        url = media.url
        if media.provider_id and isinstance(adapter, FileUrlSource):
            url = await adapter.get_file_url(media.provider_id)
        if not url:
            return None
        async with self._http.get(url) as response:
            response.raise_for_status()
            audio = await read_capped(response, MAX_AUDIO_BYTES)
            if audio is None:
                raise VoiceNoteTooLarge(f"voice note over {MAX_AUDIO_BYTES} bytes")
            return audio

    async def transcribe(self, event: InboundMedia) -> str | None:
        adapter = self._adapters.get(event.channel_id)
        if adapter is None:
            return None
        audio = await self._fetch(adapter, event)
        if not audio:
            return None
        text = await self._whisper.transcribe(audio)
        log.info("voice_note.transcribed", chars=len(text), audio_bytes=len(audio))
        return text or None
