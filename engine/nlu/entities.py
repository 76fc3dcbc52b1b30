"""Entity extraction: the bot's regex and lookup entities, then the built-ins."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import final

from engine.nlu.builtins import find_builtins
from engine.nlu.spec import EntitySpec, LookupEntitySpec, RegexEntitySpec
from engine.nlu.types import Entity


@final
class _Regex:
    def __init__(self, spec: RegexEntitySpec) -> None:
        self.name = spec.name
        self.pattern = re.compile(spec.pattern, re.IGNORECASE if spec.ignore_case else 0)

    def find(self, text: str) -> list[Entity]:
        found = []
        for match in self.pattern.finditer(text):
            if match.end() == match.start():
                continue
            group: int | str = 0
            if "value" in self.pattern.groupindex:
                group = "value"
            elif self.pattern.groups:
                group = 1
            if match.group(group) is None:
                continue
            found.append(
                Entity(
                    entity=self.name,
                    value=match.group(group),
                    text=match.group(0),
                    start=match.start(),
                    end=match.end(),
                    extractor="regex",
                )
            )
        return found


@final
class _Lookup:
    def __init__(self, spec: LookupEntitySpec) -> None:
        self.name = spec.name
        self.canonical: dict[str, str] = {}
        for item in spec.values:
            value = item if isinstance(item, str) else item.value
            synonyms = [] if isinstance(item, str) else item.synonyms
            for surface in (value, *synonyms):
                self.canonical.setdefault(_fold(surface), value)
        # Longest first, so "by the window" wins over "window".
        alternatives = "|".join(re.escape(s) for s in sorted(self.canonical, key=len, reverse=True) if s)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def find(self, text: str) -> list[Entity]:
        return [
            Entity(
                entity=self.name,
                value=self.canonical[_fold(m.group(0))],
                text=m.group(0),
                start=m.start(),
                end=m.end(),
                extractor="lookup",
            )
            for m in self.pattern.finditer(text)
        ]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


@final
class EntityExtractor:
    """Finds the bot's entities and the enabled built-ins in a message."""

    def __init__(self, specs: Sequence[EntitySpec], builtins: Collection[str]) -> None:
        self._custom: list[_Regex | _Lookup] = []
        for spec in specs:
            match spec:
                case RegexEntitySpec():
                    self._custom.append(_Regex(spec))
                case LookupEntitySpec():
                    self._custom.append(_Lookup(spec))
        self._builtins = frozenset(builtins)
        self.names = frozenset({*(c.name for c in self._custom), *self._builtins})

    def extract(self, text: str, today: dt.date) -> tuple[Entity, ...]:
        """Custom entities and built-ins, in text order; built-ins never overlap each other."""
        found = [entity for extractor in self._custom for entity in extractor.find(text)]
        if self._builtins:
            found.extend(find_builtins(text, self._builtins, today))
        return tuple(sorted(found, key=lambda e: (e.start, e.end)))
