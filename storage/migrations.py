"""The migration runner: sql/schema/*.sql in order, one transaction each, checksummed, locked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Final

import asyncpg
import msgspec

from runtime.logging import get_logger
from storage.errors import MigrationChecksumMismatch, MigrationFailed, MigrationMissing
from storage.queries import QUERIES, SCHEMA_DIR

log = get_logger(__name__)

# pg_advisory_lock key: "botrt-migrate" as an int64, the same in every process.
LOCK_KEY: Final = int.from_bytes(hashlib.sha256(b"botrt-migrate").digest()[:8], "big", signed=True)


class MigrationReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a run did."""

    applied: tuple[str, ...]
    already: int


def schema_files(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Schema files in the order they apply (by name: NNN_domain.sql)."""
    return sorted(schema_dir.glob("*.sql"))


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def pending(con: asyncpg.Connection, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Files not yet applied (raises if an applied one was edited); [] when up to date."""
    if not await con.fetchval(QUERIES["migrations/ledger_exists"]):
        return [p.name for p in schema_files(schema_dir)]
    applied = {r["filename"]: r["checksum"] for r in await con.fetch(QUERIES["migrations/select_applied"])}
    _check_applied(applied, schema_files(schema_dir))
    return [p.name for p in schema_files(schema_dir) if p.name not in applied]


def _check_applied(applied: dict[str, str], files: list[Path]) -> None:
    by_name = {p.name: p for p in files}
    for filename, recorded in applied.items():
        path = by_name.get(filename)
        if path is None:
            raise MigrationMissing(filename)
        current = checksum(path)
        if current != recorded:
            raise MigrationChecksumMismatch(filename, recorded, current)


async def migrate(
    con: asyncpg.Connection,
    schema_dir: Path = SCHEMA_DIR,
    on_applied: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Applies every pending schema file under an advisory lock; idempotent."""
    await con.execute(QUERIES["migrations/lock"], LOCK_KEY)
    try:
        await con.execute(QUERIES["migrations/create_table"])
        applied = {r["filename"]: r["checksum"] for r in await con.fetch(QUERIES["migrations/select_applied"])}
        files = schema_files(schema_dir)
        _check_applied(applied, files)
        done: list[str] = []
        for path in files:
            if path.name in applied:
                continue
            try:
                async with con.transaction():
                    await con.execute(path.read_text(encoding="utf-8"))
                    await con.execute(QUERIES["migrations/insert_applied"], path.name, checksum(path))
            except asyncpg.PostgresError as exc:
                raise MigrationFailed(path.name, f"{type(exc).__name__}: {exc}") from exc
            log.info("migration.applied", file=path.name)
            done.append(path.name)
            if on_applied is not None:
                on_applied(path.name)
        return MigrationReport(applied=tuple(done), already=len(applied))
    finally:
        await con.execute(QUERIES["migrations/unlock"], LOCK_KEY)
