"""The embedding intent classifier: cosine to the examples' embeddings, nearest and centroid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import numpy as np
import numpy.typing as npt

from engine.errors import EmbedderError
from engine.nlu.types import Embedder, IntentScore

# Sentence embeddings (all-MiniLM-L6-v2) put paraphrases around 0.5-0.8 and unrelated text
# under 0.3; the mix below sits between, like the lexical one.
DEFAULT_THRESHOLD: Final = 0.45
NEAREST_SHARE: Final = 0.6
BATCH: Final = 64  # texts per embed() call while fitting, so one request never grows huge


@final
class EmbeddingClassifier:
    """Scores an intent by its nearest example and its centroid in embedding space."""

    name: Final = "embedding"

    def __init__(self, intents: Sequence[str], example_intent: Sequence[int], vectors: npt.NDArray[np.float64]) -> None:
        self.intents = tuple(intents)
        self._example_intent = np.asarray(example_intent, dtype=np.intp)
        self._vectors = _unit_rows(vectors)
        sums = np.zeros((len(self.intents), self._vectors.shape[1]))
        np.add.at(sums, self._example_intent, self._vectors)
        self._centroids = _unit_rows(sums)

    @classmethod
    async def fit(cls, examples: Sequence[tuple[str, str]], embedder: Embedder) -> EmbeddingClassifier:
        """Embeds the (intent, text) examples in batches and builds the classifier."""
        if not examples:
            raise ValueError("the embedding classifier needs at least one example")
        intents = tuple(dict.fromkeys(intent for intent, _ in examples))
        index = {name: i for i, name in enumerate(intents)}
        rows: list[list[float]] = []
        for start in range(0, len(examples), BATCH):
            batch = [text for _, text in examples[start : start + BATCH]]
            vectors = await embedder.embed(batch)
            if len(vectors) != len(batch):
                raise EmbedderError(type(embedder).__name__, f"returned {len(vectors)} vectors for {len(batch)} texts")
            rows.extend(vectors)
        return cls(intents, [index[intent] for intent, _ in examples], np.asarray(rows, dtype=np.float64))

    async def rank(self, text: str, embedder: Embedder) -> list[IntentScore]:
        """Every intent's score for the text, best first; raises EmbedderError when embedding fails."""
        vectors = await embedder.embed([text])
        if len(vectors) != 1:
            raise EmbedderError(type(embedder).__name__, f"returned {len(vectors)} vectors for 1 text")
        return self.rank_vector(np.asarray(vectors[0], dtype=np.float64))

    def rank_vector(self, vector: npt.NDArray[np.float64]) -> list[IntentScore]:
        """Scores for an already embedded text."""
        if vector.shape != (self._vectors.shape[1],):
            raise EmbedderError("embedder", f"vector of shape {vector.shape}, expected ({self._vectors.shape[1]},)")
        norm = float(np.linalg.norm(vector))
        query = vector / norm if norm else vector
        similarity = self._vectors @ query
        nearest = np.full(len(self.intents), -1.0)
        np.maximum.at(nearest, self._example_intent, similarity)
        scores = NEAREST_SHARE * nearest + (1 - NEAREST_SHARE) * (self._centroids @ query)
        order = np.argsort(-scores, kind="stable")
        return [IntentScore(intent=self.intents[i], confidence=_unit(scores[i])) for i in order]


def _unit(score: float) -> float:
    return round(min(max(float(score), 0.0), 1.0), 4)


def _unit_rows(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return unit
