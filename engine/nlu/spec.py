"""The [nlu] table of a bot file: intents with examples, entities, thresholds."""

from __future__ import annotations

import re
from typing import Final, Literal

import msgspec

from engine.errors import NluSpecError
from engine.nlu.builtins import BUILTINS, BuiltinKind

NAME: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$")
ENTITY_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class IntentSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An intent and the utterances that teach it."""

    name: str
    examples: list[str]
    # Overrides the classifier's threshold for this intent (a stricter bar for risky intents).
    threshold: float | None = None


class LookupValue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A canonical value of a lookup entity and the other ways users say it."""

    value: str
    synonyms: list[str] = []


class RegexEntitySpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="regex"
):
    """An entity matched by a pattern; its value is the group named value, group 1, or the match."""

    name: str
    pattern: str
    ignore_case: bool = True


class LookupEntitySpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="kind", tag="lookup"
):
    """An entity matched against a list of values; plain strings are values without synonyms."""

    name: str
    values: list[str | LookupValue]


EntitySpec = RegexEntitySpec | LookupEntitySpec


class NluSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Intents, entities and the classifier's settings."""

    intents: list[IntentSpec] = []
    entities: list[EntitySpec] = []
    builtins: list[BuiltinKind] = msgspec.field(default_factory=lambda: list(BUILTINS))
    # Below these confidences the message gets the fallback intent; None takes the
    # classifier's own default (the two classifiers' scores live on different scales).
    threshold: float | None = None
    embedding_threshold: float | None = None
    fallback_intent: str = "fallback"
    classifier: Literal["auto", "lexical", "embedding"] = "auto"


def validate_nlu(spec: NluSpec) -> None:
    """Checks names, patterns and thresholds; raises NluSpecError naming the intent or entity."""
    seen: set[str] = set()
    for intent in spec.intents:
        if not NAME.match(intent.name):
            raise NluSpecError(intent.name, f"an intent name must match {NAME.pattern}")
        if intent.name in seen:
            raise NluSpecError(intent.name, "intent defined twice")
        if intent.name == spec.fallback_intent:
            raise NluSpecError(intent.name, "is the fallback intent; it is given, never trained")
        seen.add(intent.name)
        if not [e for e in intent.examples if e.strip()]:
            raise NluSpecError(intent.name, "an intent needs at least one example")
        if intent.threshold is not None and not 0 <= intent.threshold <= 1:
            raise NluSpecError(intent.name, "threshold must be between 0 and 1")
    for value in (spec.threshold, spec.embedding_threshold):
        if value is not None and not 0 <= value <= 1:
            raise NluSpecError("nlu", "thresholds must be between 0 and 1")
    names: set[str] = set()
    for entity in spec.entities:
        if not ENTITY_NAME.match(entity.name):
            raise NluSpecError(entity.name, f"an entity name must match {ENTITY_NAME.pattern}")
        if entity.name in names or entity.name in BUILTINS:
            raise NluSpecError(entity.name, "entity defined twice (or named like a built-in)")
        names.add(entity.name)
        match entity:
            case RegexEntitySpec(pattern=pattern):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise NluSpecError(entity.name, f"pattern does not compile: {exc}") from exc
            case LookupEntitySpec(values=values):
                if not values:
                    raise NluSpecError(entity.name, "a lookup entity needs values")
