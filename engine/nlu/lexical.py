"""The offline intent classifier: TF-IDF over character n-grams and words, scored by cosine.

Character n-grams (inside word boundaries) make it robust to typos and inflection ("booking",
"booked", "bookin"); whole words keep short, distinctive tokens ("hi", "yo") apart. An
intent's score mixes the nearest example (which keeps rare phrasings) with the intent's
centroid (which keeps one odd example from winning alone). Cosine scores fall towards 0 for
text unlike anything in the training data, which is what the fallback threshold needs.
Vectors are sparse (postings per feature), so a bot with thousands of examples stays fast.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Final, final

import numpy as np
import numpy.typing as npt

from engine.nlu.types import IntentScore

# On tests/data/nlu, held-out in-scope messages score 0.24-0.8 (the lowest are one-word
# greetings) and out-of-scope ones 0.04-0.32: 0.25 keeps 36 of 37 and rejects half of the
# out-of-scope set. Bots with more examples per intent can raise it ([nlu] threshold).
DEFAULT_THRESHOLD: Final = 0.25
NGRAMS: Final = (2, 3, 4)
WORD_WEIGHT: Final = 2.0  # a whole-word match counts as much as two n-grams
NEAREST_SHARE: Final = 0.6  # score = 0.6 * nearest example + 0.4 * centroid
_NON_WORD: Final = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", plain).replace("_", " ").split())


def features(text: str) -> dict[str, float]:
    """Word and character n-gram counts of the normalised text."""
    counts: defaultdict[str, float] = defaultdict(float)
    for word in normalise(text).split():
        counts["w:" + word] += WORD_WEIGHT
        padded = f" {word} "
        for n in NGRAMS:
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if gram.strip():
                    counts[gram] += 1
    return counts


@final
class LexicalClassifier:
    """TF-IDF cosine classifier over the examples of each intent."""

    name: Final = "lexical"

    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        """Learns from (intent, text) pairs; a few thousand take milliseconds."""
        rows = [(intent, features(text)) for intent, text in examples if normalise(text)]
        if not rows:
            raise ValueError("the lexical classifier needs at least one example with words")
        self.intents: tuple[str, ...] = tuple(dict.fromkeys(intent for intent, _ in rows))
        intent_index = {name: i for i, name in enumerate(self.intents)}
        self._example_intent = np.array([intent_index[intent] for intent, _ in rows], dtype=np.intp)
        document_frequency: Counter[str] = Counter()
        for _, counts in rows:
            document_frequency.update(counts.keys())
        total = len(rows)
        # Smoothed idf, as scikit-learn's: never zero, so a feature in every example still counts a little.
        self._idf = {f: math.log((1 + total) / (1 + df)) + 1.0 for f, df in document_frequency.items()}
        self._unseen_idf = math.log(1 + total) + 1.0
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        centroids = np.zeros(len(self.intents))
        centroid_vectors: list[dict[str, float]] = [defaultdict(float) for _ in self.intents]
        for row, (intent, counts) in enumerate(rows):
            vector = self._weigh(counts)
            for feature, weight in vector.items():
                postings[feature].append((row, weight))
                centroid_vectors[intent_index[intent]][feature] += weight
        for i, vector in enumerate(centroid_vectors):
            centroids[i] = math.sqrt(sum(w * w for w in vector.values()))
        self._centroid_norm = centroids
        self._postings = {
            feature: (np.array([r for r, _ in items], dtype=np.intp), np.array([w for _, w in items]))
            for feature, items in postings.items()
        }
        self._rows = total

    def _weigh(self, counts: dict[str, float]) -> dict[str, float]:
        """Sublinear tf times idf, L2-normalised; unseen features count in the norm, then drop out."""
        # An unseen feature gets the idf of a feature in no example; keeping it in the norm
        # is what makes text mostly unlike the training data score low.
        weights = {f: (1.0 + math.log(c)) * self._idf.get(f, self._unseen_idf) for f, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {f: w / norm for f, w in weights.items() if f in self._idf} if norm else {}

    def rank(self, text: str) -> list[IntentScore]:
        """Every intent's score for the text, best first."""
        query = self._weigh(features(text))
        similarity = np.zeros(self._rows)
        for feature, weight in query.items():
            rows, values = self._postings[feature]
            similarity[rows] += weight * values
        nearest = np.zeros(len(self.intents))
        np.maximum.at(nearest, self._example_intent, similarity)
        # q . centroid = sum of q . example over the intent's examples, divided by |sum|.
        summed = np.bincount(self._example_intent, weights=similarity, minlength=len(self.intents))
        centroid = np.divide(summed, self._centroid_norm, out=np.zeros_like(summed), where=self._centroid_norm > 0)
        scores: npt.NDArray[np.float64] = NEAREST_SHARE * nearest + (1 - NEAREST_SHARE) * centroid
        order = np.argsort(-scores, kind="stable")
        return [IntentScore(intent=self.intents[i], confidence=_unit(scores[i])) for i in order]


def _unit(score: float) -> float:
    """A score clipped to [0, 1] and rounded, so logs and reports stay readable."""
    return round(min(max(float(score), 0.0), 1.0), 4)
