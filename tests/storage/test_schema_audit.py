"""Property 6: audit_logs is append-only and hash-chained per organization; verify finds tampering."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import asyncpg
import pytest

from storage.audit import verify_audit_chain
from tests.storage.schema_seed import act_for, app_connection, seed_tenant

_AUDIT = "INSERT INTO audit_logs (org_id, actor_type, action, metadata) VALUES ($1, 'user', $2, '{\"n\": 1}')"
_CHAIN = "SELECT id, chain_seq, prev_hash, hash FROM audit_logs WHERE org_id = $1 ORDER BY chain_seq"


async def _trail(con: asyncpg.Connection, org_id: uuid.UUID, count: int) -> list[asyncpg.Record]:
    for n in range(count):
        await con.execute(_AUDIT, org_id, f"bot.updated_{n}")
    return await con.fetch(_CHAIN, org_id)


async def test_update_delete_and_truncate_are_rejected(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await _trail(con, acme.org_id, 2)
        # Even the superuser is refused: the database itself keeps the trail append-only.
        for statement in (
            "UPDATE audit_logs SET action = 'bot.deleted'",
            "DELETE FROM audit_logs",
            "TRUNCATE audit_logs",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await con.execute(statement)
        # Setting the maintenance flag alone does not open it either (it needs a maintainer and
        # only ever allows deletes).
        async with con.transaction():
            await con.execute("SET LOCAL botrt.audit_maintenance = 'on'")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await con.execute("UPDATE audit_logs SET action = 'bot.deleted'")
        assert await con.fetchval("SELECT count(*) FROM audit_logs") == 2
    finally:
        await con.close()

    async with app_connection(database_url) as app, app.transaction():
        await act_for(app, acme.org_id)
        await app.execute("SET LOCAL botrt.audit_maintenance = 'on'")
        await app.execute(_AUDIT, acme.org_id, "member.invited")
        for statement in ("UPDATE audit_logs SET action = 'x.y'", "DELETE FROM audit_logs"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with app.transaction():
                    await app.execute(statement)


async def test_each_row_hashes_its_content_and_the_previous_row_of_its_org(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        rival = await seed_tenant(con, "rival")
        for n in range(3):
            await con.execute(_AUDIT, acme.org_id, f"bot.updated_{n}")
            await con.execute(_AUDIT, rival.org_id, f"bot.updated_{n}")
        # A batch insert chains row by row; whatever the writer sends for the chain is replaced.
        await con.execute(
            "INSERT INTO audit_logs (org_id, actor_type, action, chain_seq, prev_hash, hash)"
            " SELECT $1, 'system', 'usage.recorded', 99, sha256('x'), sha256('y') FROM generate_series(1, 3)",
            acme.org_id,
        )
        for tenant, expected in ((acme, 6), (rival, 3)):
            chain = await con.fetch(_CHAIN, tenant.org_id)
            assert [r["chain_seq"] for r in chain] == list(range(1, expected + 1))
            assert chain[0]["prev_hash"] == bytes(32)
            for before, after in zip(chain, chain[1:], strict=False):
                assert after["prev_hash"] == before["hash"]
        recomputed = await con.fetchval(
            """
            SELECT bool_and(hash = sha256(prev_hash || botrt_audit_content(org_id, chain_seq, id, created_at,
                   actor_type, actor_id, action, target_type, target_id, ip, metadata)))
              FROM audit_logs
            """
        )
        assert recomputed is True
        # The canonical content is stable JSON: the hash can be recomputed outside the database.
        row = await con.fetchrow(
            "SELECT prev_hash, hash, convert_from(botrt_audit_content(org_id, chain_seq, id, created_at, actor_type,"
            " actor_id, action, target_type, target_id, ip, metadata), 'UTF8') AS content"
            " FROM audit_logs WHERE org_id = $1 AND chain_seq = 1",
            acme.org_id,
        )
        assert row is not None
        assert hashlib.sha256(row["prev_hash"] + row["content"].encode()).digest() == row["hash"]
        verification = await verify_audit_chain(con)
        assert verification.ok
        assert (verification.orgs_checked, verification.rows_checked) == (2, 9)
    finally:
        await con.close()


async def test_concurrent_writers_for_one_org_keep_a_single_chain(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
    finally:
        await admin.close()

    async def writer(n: int) -> None:
        async with app_connection(database_url) as con:
            for batch in range(5):
                async with con.transaction():
                    await act_for(con, acme.org_id)
                    await con.execute(_AUDIT, acme.org_id, f"writer.w{n}_{batch}")
                    await con.execute(_AUDIT, acme.org_id, f"writer.w{n}_{batch}b")

    await asyncio.gather(*(writer(n) for n in range(6)))
    admin = await asyncpg.connect(database_url)
    try:
        chain = await admin.fetch(_CHAIN, acme.org_id)
        assert [r["chain_seq"] for r in chain] == list(range(1, 61))
        assert (await verify_audit_chain(admin, acme.org_id)).ok
    finally:
        await admin.close()


async def _bypassing_triggers(con: asyncpg.Connection, statement: str, *args: object) -> None:
    """What a superuser can do behind the triggers' back."""
    async with con.transaction():
        await con.execute("SET LOCAL session_replication_role = replica")
        await con.execute(statement, *args)


async def test_verify_detects_a_tampered_row(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        rival = await seed_tenant(con, "rival")
        chain = await _trail(con, acme.org_id, 5)
        await _trail(con, rival.org_id, 3)
        assert (await verify_audit_chain(con)).ok

        await _bypassing_triggers(con, "UPDATE audit_logs SET metadata = '{\"n\": 2}' WHERE id = $1", chain[2]["id"])
        verification = await verify_audit_chain(con)
        assert not verification.ok
        assert verification.broken_orgs == (acme.org_id,)
        assert [(b.problem, b.chain_seq, b.row_id) for b in verification.breaks] == [
            ("hash_mismatch", 3, chain[2]["id"])
        ]
        # Recomputing the altered row's hash only moves the break to the next link.
        await _bypassing_triggers(
            con,
            "UPDATE audit_logs SET hash = sha256(prev_hash || botrt_audit_content(org_id, chain_seq, id, created_at,"
            " actor_type, actor_id, action, target_type, target_id, ip, metadata)) WHERE id = $1",
            chain[2]["id"],
        )
        verification = await verify_audit_chain(con)
        assert [(b.problem, b.chain_seq) for b in verification.breaks] == [("broken_link", 4)]
        assert (await verify_audit_chain(con, rival.org_id)).ok
    finally:
        await con.close()


async def test_verify_detects_a_deleted_row(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        chain = await _trail(con, acme.org_id, 5)
        await _bypassing_triggers(con, "DELETE FROM audit_logs WHERE id = $1", chain[1]["id"])
        verification = await verify_audit_chain(con, acme.org_id)
        assert [(b.problem, b.chain_seq, b.row_id) for b in verification.breaks] == [
            ("missing_rows", 3, chain[2]["id"])
        ]
        # Deleting the newest row leaves no successor to break; the chain head gives it away.
        await _bypassing_triggers(con, "DELETE FROM audit_logs WHERE id = $1", chain[4]["id"])
        verification = await verify_audit_chain(con, acme.org_id)
        assert ("missing_tail", 5) in [(b.problem, b.chain_seq) for b in verification.breaks]
    finally:
        await con.close()


async def test_the_runtime_role_can_verify_its_own_org(database_url: str) -> None:
    admin = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(admin, "acme")
        rival = await seed_tenant(admin, "rival")
        await _trail(admin, acme.org_id, 3)
        chain = await _trail(admin, rival.org_id, 3)
        await _bypassing_triggers(admin, "DELETE FROM audit_logs WHERE id = $1", chain[0]["id"])
    finally:
        await admin.close()
    async with app_connection(database_url) as con, con.transaction():
        await act_for(con, acme.org_id)
        verification = await verify_audit_chain(con, acme.org_id)
        assert verification.ok and verification.rows_checked == 3
