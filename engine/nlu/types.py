"""What NLU hands to the engine: the Understanding of one message, and the Embedder port."""

from __future__ import annotations

from typing import Protocol

import msgspec


class Entity(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A span of the message recognised as an entity, with its normalised value."""

    entity: str  # the entity's name: "date", "size", "order_id"
    value: str | int | float  # dates as YYYY-MM-DD, times as HH:MM, lookups as the canonical value
    text: str  # the span as the user wrote it
    start: int
    end: int
    extractor: str  # builtin | regex | lookup


class IntentScore(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One intent and the classifier's confidence in it, between 0 and 1."""

    intent: str
    confidence: float


class Understanding(msgspec.Struct, frozen=True, kw_only=True):
    """The NLU result for one message: the intent (or the fallback intent), entities, ranking."""

    text: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    # The best intents before the threshold was applied, best first (for review and routing).
    ranking: tuple[IntentScore, ...] = ()
    classifier: str = "lexical"  # lexical | embedding | payload | none
    is_fallback: bool = False

    def entity(self, name: str) -> Entity | None:
        """The first entity with this name, if any."""
        for found in self.entities:
            if found.entity == name:
                return found
        return None


class Embedder(Protocol):
    """Turns texts into vectors; sentence-transformers and OpenAI embedders implement it.

    Implementations run blocking work in an executor and raise EmbedderError when they fail,
    so the NLU can fall back to the lexical classifier for that message.
    """

    async def embed(self, texts: list[str]) -> list[list[float]]: ...
