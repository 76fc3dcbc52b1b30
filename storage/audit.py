"""Verifying the audit trail's per-organization hash chains (`botrt audit verify`).

Each audit row carries sha256(prev_hash || its content) and its place in its organization's
chain (sql/schema/021_audit.sql). Verification recomputes every hash and follows every link in
the database (sql/queries/audit/verify_chain.sql), so a row altered behind the triggers' back
(say by a superuser with session_replication_role = replica) or deleted is found.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal, final

import asyncpg
import msgspec

from storage.queries import QUERIES

AuditProblem = Literal["hash_mismatch", "missing_rows", "broken_link", "missing_tail"]


@final
class AuditBreak(msgspec.Struct, frozen=True, kw_only=True):
    """A place where an organization's chain does not verify."""

    org_id: uuid.UUID
    problem: AuditProblem
    # The row's position in the chain; for missing_tail, the position of the lost newest row.
    chain_seq: int
    row_id: uuid.UUID | None = None
    created_at: dt.datetime | None = None


@final
class AuditVerification(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of verifying one organization's chain, or every organization's."""

    orgs_checked: int
    rows_checked: int
    broken_orgs: tuple[uuid.UUID, ...]
    breaks: tuple[AuditBreak, ...]

    @property
    def ok(self) -> bool:
        return not self.breaks


async def verify_audit_chain(con: asyncpg.Connection, org_id: uuid.UUID | str | None = None) -> AuditVerification:
    """Checks every link of the audit chain of org_id, or of every organization when None."""
    org = uuid.UUID(str(org_id)) if org_id is not None else None
    if con.is_in_transaction():
        # The caller's transaction (e.g. one that set botrt.org_id for row-level security).
        return await _verify(con, org)
    async with con.transaction(isolation="repeatable_read", readonly=True):
        return await _verify(con, org)


async def _verify(con: asyncpg.Connection, org: uuid.UUID | None) -> AuditVerification:
    counts = await con.fetchrow(QUERIES["audit/count_links"], org)
    assert counts is not None  # two scalar subqueries: always one row
    rows = await con.fetch(QUERIES["audit/verify_chain"], org)
    breaks = tuple(
        AuditBreak(
            org_id=row["org_id"],
            problem=row["problem"],
            chain_seq=row["chain_seq"],
            row_id=row["row_id"],
            created_at=row["created_at"],
        )
        for row in rows
    )
    return AuditVerification(
        orgs_checked=counts["orgs"],
        rows_checked=counts["links"],
        broken_orgs=tuple(dict.fromkeys(item.org_id for item in breaks)),
        breaks=breaks,
    )
