"""The size and self-description of the schema: every domain, every table commented (issue 3)."""

from __future__ import annotations

import re

import asyncpg

from storage.queries import SCHEMA_DIR

_RELATIONS = """
SELECT c.relname, c.relkind::text AS kind, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
   AND c.relname <> 'schema_migrations'
"""


async def test_at_least_95_tables_and_4_views_each_with_a_comment(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        relations = await con.fetch(_RELATIONS)
    finally:
        await con.close()
    tables = [r for r in relations if r["kind"] in ("r", "p")]
    views = [r for r in relations if r["kind"] in ("v", "m")]
    assert len(tables) >= 95, len(tables)
    assert len([r for r in views if r["kind"] == "v"]) >= 4
    uncommented = sorted(r["relname"] for r in relations if not r["comment"])
    assert uncommented == []


def test_every_schema_file_says_what_it_is_about() -> None:
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("-- "), f"{path.name} starts without a header comment"
        assert re.fullmatch(r"\d{3}_[a-z0-9_]+\.sql", path.name), path.name
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 600, f"{path.name} is over 600 lines"
