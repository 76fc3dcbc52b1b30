"""docs/schema.md is generated from the migrated catalog and kept up to date."""

from __future__ import annotations

from scripts.gen_schema_docs import DEFAULT_OUT, generate, read_schema_files


def test_every_schema_file_names_its_domain() -> None:
    files = read_schema_files()
    assert all(file.domain for file in files)
    created = [name for file in files for name in file.creates]
    assert len(created) == len(set(created)), "a relation is created by two schema files"


async def test_docs_schema_md_matches_the_schema(database_url: str) -> None:
    expected = await generate(database_url)
    assert DEFAULT_OUT.read_text(encoding="utf-8") == expected, (
        "docs/schema.md is out of date: run python scripts/gen_schema_docs.py <dsn of a migrated database>"
    )
