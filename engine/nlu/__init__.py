"""Natural-language understanding: intents, entities, offline and embedding classifiers."""

from engine.nlu.nlu import Nlu, payload_intent
from engine.nlu.spec import NluSpec
from engine.nlu.types import Embedder, Entity, IntentScore, Understanding

__all__ = ["Embedder", "Entity", "IntentScore", "Nlu", "NluSpec", "Understanding", "payload_intent"]
