"""The migration runner against real PostgreSQL: order, idempotence, checksums, the lock."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from storage.errors import MigrationChecksumMismatch, MigrationFailed
from storage.migrations import migrate, pending, schema_files


async def test_from_empty_then_a_second_run_is_a_no_op(empty_database_url: str) -> None:
    con = await asyncpg.connect(empty_database_url)
    try:
        first = await migrate(con)
        assert list(first.applied) == [p.name for p in schema_files()]
        assert await pending(con) == []
        second = await migrate(con)
        assert second.applied == () and second.already == len(first.applied)
        ledger = await con.fetch("SELECT filename, checksum FROM schema_migrations ORDER BY filename")
        assert [r["filename"] for r in ledger] == list(first.applied)
        assert all(len(r["checksum"]) == 64 for r in ledger)
    finally:
        await con.close()


async def test_an_edited_applied_file_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(schema_files()[0].parent, schema)
    con = await asyncpg.connect(empty_database_url)
    try:
        await migrate(con, schema)
        edited = sorted(schema.glob("*.sql"))[1]
        edited.write_text(edited.read_text() + "\n-- a sneaky edit\n")
        with pytest.raises(MigrationChecksumMismatch) as caught:
            await migrate(con, schema)
        assert caught.value.filename == edited.name
        assert "new file" in str(caught.value)
    finally:
        await con.close()


async def test_a_failing_file_rolls_back_alone(empty_database_url: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (schema / "002_bad.sql").write_text("CREATE TABLE half_done (id int);\nCREATE TABLE broken (id nosuchtype);")
    con = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(MigrationFailed) as caught:
            await migrate(con, schema)
        assert caught.value.filename == "002_bad.sql"
        assert await con.fetchval("SELECT to_regclass('ok_table') IS NOT NULL")
        assert await con.fetchval("SELECT to_regclass('half_done') IS NULL")
        assert await pending(con, schema) == ["002_bad.sql"]
    finally:
        await con.close()


async def test_two_migrators_at_once_apply_everything_exactly_once(empty_database_url: str) -> None:
    cons = [await asyncpg.connect(empty_database_url) for _ in range(3)]
    try:
        reports = await asyncio.gather(*(migrate(con) for con in cons))
        applied = [name for report in reports for name in report.applied]
        assert sorted(applied) == [p.name for p in schema_files()]
        assert await cons[0].fetchval("SELECT count(*) FROM schema_migrations") == len(schema_files())
    finally:
        for con in cons:
            await con.close()
