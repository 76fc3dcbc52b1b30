"""Named queries: every sql/queries/<area>/<name>.sql file, loaded once into a frozen map."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, final

SQL_DIR: Final = Path(__file__).resolve().parent.parent / "sql"
QUERIES_DIR: Final = SQL_DIR / "queries"
SCHEMA_DIR: Final = SQL_DIR / "schema"


@final
class QueryRegistry(Mapping[str, str]):
    """Maps "area/name" to the SQL text of sql/queries/area/name.sql; unknown names raise."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._texts: Mapping[str, str] = MappingProxyType(
            {
                path.relative_to(root).with_suffix("").as_posix(): path.read_text(encoding="utf-8")
                for path in sorted(root.rglob("*.sql"))
            }
        )

    def __getitem__(self, name: str) -> str:
        try:
            return self._texts[name]
        except KeyError:
            raise KeyError(f"no query {name!r}: expected the file {self._root / name}.sql") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


QUERIES: Final = QueryRegistry(QUERIES_DIR)
