"""The NLU of one bot: classify the intent, apply the threshold, extract entities."""

from __future__ import annotations

import datetime as dt
from typing import Final, final

from engine.errors import EmbedderError
from engine.nlu import embedding, lexical
from engine.nlu.embedding import EmbeddingClassifier
from engine.nlu.entities import EntityExtractor
from engine.nlu.lexical import LexicalClassifier
from engine.nlu.spec import NluSpec, validate_nlu
from engine.nlu.types import Embedder, IntentScore, Understanding
from runtime.logging import get_logger

log = get_logger(__name__)

RANKING: Final = 5  # runner-up intents kept in an Understanding (nlu_predictions.ranking)


def payload_intent(text: str, payload: str | None) -> Understanding | None:
    """A button payload "/intent" names its intent outright (Rasa's convention)."""
    if payload and payload.startswith("/") and len(payload) > 1 and " " not in payload:
        intent = payload[1:]
        return Understanding(
            text=text,
            intent=intent,
            confidence=1.0,
            ranking=(IntentScore(intent=intent, confidence=1.0),),
            classifier="payload",
        )
    return None


@final
class Nlu:
    """Intent classification and entity extraction for one bot's [nlu] table."""

    def __init__(
        self,
        spec: NluSpec,
        *,
        lexical: LexicalClassifier | None,
        embedding: EmbeddingClassifier | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        validate_nlu(spec)
        self.spec = spec
        self._lexical = lexical
        self._embedding = embedding if embedder is not None else None
        self._embedder = embedder
        self._entities = EntityExtractor(spec.entities, spec.builtins)
        self._intent_thresholds = {i.name: i.threshold for i in spec.intents if i.threshold is not None}
        self.intents = frozenset(i.name for i in spec.intents)

    @classmethod
    def lexical(cls, spec: NluSpec) -> Nlu:
        """The offline NLU: character n-gram TF-IDF, no extras needed."""
        examples = _examples(spec)
        return cls(spec, lexical=LexicalClassifier(examples) if examples else None)

    @classmethod
    async def build(cls, spec: NluSpec, *, embedder: Embedder | None = None) -> Nlu:
        """The embedding classifier when an embedder is given (and the spec allows it), else lexical.

        The lexical classifier is always built too: it answers when the embedder fails.
        """
        examples = _examples(spec)
        lexical_classifier = LexicalClassifier(examples) if examples else None
        if embedder is None or spec.classifier == "lexical" or not examples:
            return cls(spec, lexical=lexical_classifier)
        fitted = await EmbeddingClassifier.fit(examples, embedder)
        return cls(spec, lexical=lexical_classifier, embedding=fitted, embedder=embedder)

    @property
    def entity_names(self) -> frozenset[str]:
        """The entities this NLU can find (custom and built-in)."""
        return self._entities.names

    @property
    def classifier(self) -> str:
        """Which classifier answers: embedding, lexical or none."""
        if self._embedding is not None:
            return "embedding"
        return "lexical" if self._lexical is not None else "none"

    async def understand(self, text: str, *, payload: str | None = None, today: dt.date | None = None) -> Understanding:
        """Intent (or the fallback intent), confidence, ranking and entities of one message."""
        day = today or dt.date.today()
        entities = self._entities.extract(text, day)
        named = payload_intent(text, payload)
        if named is not None:
            return Understanding(
                text=text,
                intent=named.intent,
                confidence=1.0,
                entities=entities,
                ranking=named.ranking,
                classifier="payload",
            )
        ranking, classifier, default = await self._rank(text)
        if not ranking:
            return Understanding(
                text=text,
                intent=self.spec.fallback_intent,
                confidence=0.0,
                entities=entities,
                classifier=classifier,
                is_fallback=True,
            )
        best = ranking[0]
        threshold = self._intent_thresholds.get(best.intent, default)
        passed = best.confidence >= threshold
        return Understanding(
            text=text,
            intent=best.intent if passed else self.spec.fallback_intent,
            # With the fallback intent this is still the best intent's confidence: how close it came.
            confidence=best.confidence,
            entities=entities,
            ranking=tuple(ranking[:RANKING]),
            classifier=classifier,
            is_fallback=not passed,
        )

    async def _rank(self, text: str) -> tuple[list[IntentScore], str, float]:
        if self._embedding is not None and self._embedder is not None:
            try:
                ranking = await self._embedding.rank(text, self._embedder)
            except (EmbedderError, TimeoutError) as exc:
                # A failing embedder degrades to the lexical classifier for this message.
                log.warning("nlu.embedder_failed", error=str(exc))
            else:
                return ranking, "embedding", _or(self.spec.embedding_threshold, embedding.DEFAULT_THRESHOLD)
        if self._lexical is not None:
            return self._lexical.rank(text), "lexical", _or(self.spec.threshold, lexical.DEFAULT_THRESHOLD)
        return [], "none", 1.0


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _examples(spec: NluSpec) -> list[tuple[str, str]]:
    return [(intent.name, text) for intent in spec.intents for text in intent.examples if text.strip()]
