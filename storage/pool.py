"""asyncpg pools: codecs registered once, the app pool acting as botrt_app."""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import msgspec
from pgvector.asyncpg import register_vector

from storage.queries import QUERIES

_JSON_ENCODER: Final = msgspec.json.Encoder()
_JSON_DECODER: Final = msgspec.json.Decoder()


def _encode_jsonb(value: Any) -> bytes:
    # jsonb's binary format: a version byte (1), then the JSON text. Binary skips a str round
    # trip per value on the client, which adds up in batch inserts of thousands of rows.
    return b"\x01" + _JSON_ENCODER.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return _JSON_DECODER.decode(data[1:])


async def _register_codecs(con: asyncpg.Connection) -> None:
    await con.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )
    await register_vector(con)


async def _init_app_connection(con: asyncpg.Connection) -> None:
    await _register_codecs(con)
    await con.execute(QUERIES["tenancy/set_app_role"])


async def _reset_app_connection(con: asyncpg.Connection) -> None:
    """Nothing to reset: asyncpg has already ended any open transaction.

    The default reset runs RESET ALL (dropping the role set at connect) and costs a round trip
    per release. Storage sets the org only with set_config(..., true), which ends with the
    transaction, and never changes session state, so a released connection is clean as it is.
    """


async def create_app_pool(dsn: str, *, size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    """The runtime's pool: every connection acts as botrt_app, under row-level security."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        # Every connection opened at start-up: opened on demand, the first burst of traffic (a
        # load test's first second, a campaign's replies) waited for connects, codec set-up
        # and the role change on top of its own work.
        min_size=size,
        max_size=size,
        init=_init_app_connection,
        reset=_reset_app_connection,
        **kwargs,
    )
    return pool


async def connect_admin(dsn: str) -> asyncpg.Connection:
    """A connection as the owner, for migrations, bot sync and maintenance."""
    con: asyncpg.Connection = await asyncpg.connect(dsn)
    return con


async def register_admin_codecs(con: asyncpg.Connection) -> None:
    """Registers jsonb and vector codecs on an admin connection (after migrations)."""
    await _register_codecs(con)
