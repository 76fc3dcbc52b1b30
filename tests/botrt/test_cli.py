"""The botrt command line, run as users run it: a subprocess with BOTRT_* in its environment."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from tests.conftest import REPO


async def botrt(*args: str, env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "botrt", *args, cwd=REPO, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_migrate_then_db_maintain_and_audit_verify(database_url: str, tmp_path: Path) -> None:
    env = {"BOTRT_DATABASE_URL": database_url, "BOTRT_DATA_DIR": str(tmp_path), "BOTRT_LOG_FORMAT": "json"}
    code, out = await botrt("migrate", env=env)
    assert code == 0, out
    code, out = await botrt("db", "maintain", env=env)
    assert code == 0, out
    assert "analytics views refreshed:" in out and "partitions created:" in out
    code, out = await botrt("audit", "verify", env=env)
    assert code == 0 and "audit trail intact" in out, out

    con = await asyncpg.connect(database_url)
    try:
        org = await con.fetchval("INSERT INTO organizations (slug, name) VALUES ('acme', 'Acme') RETURNING id")
        for _ in range(3):
            await con.execute(
                "INSERT INTO audit_logs (org_id, chain_seq, actor_type, action, prev_hash, hash)"
                " VALUES ($1, 1, 'system', 'test.event', $2, $2)", org, bytes(32),
            )
        # Tamper as a superuser who bypasses the append-only trigger.
        await con.execute("SET session_replication_role = replica")
        await con.execute("UPDATE audit_logs SET action = 'test.forged' WHERE chain_seq = 2")
    finally:
        await con.close()
    code, out = await botrt("audit", "verify", env=env)
    assert code == 1 and "BROKEN" in out and "chain_seq 2" in out, out


async def test_channels_lists_callback_urls(tmp_path: Path) -> None:
    bots = tmp_path / "bots"
    bots.mkdir()
    (bots / "b.toml").write_text(
        '[bot]\nslug="b"\nname="B"\n[[channels]]\ntype="webchat"\nslug="site"\n'
        '[[channels]]\ntype="sms"\nslug="text-us"\naccount_sid="AC1"\nauth_token="${NOT_SET_HERE}"\nfrom_number="+1"\n'
        '[flow]\nstart="a"\n[[flow.nodes]]\nid="a"\nkind="say"\ntext="hi"\n'
    )
    env = {"BOTRT_BOTS": str(bots), "BOTRT_PUBLIC_URL": "https://bots.example.org"}
    code, out = await botrt("channels", env=env)
    assert code == 0, out
    assert "https://bots.example.org/chat/site" in out
    assert "https://bots.example.org/hooks/sms/text-us" in out
    code, out = await botrt("channels", "register", "text-us", env=env)
    assert code == 0 and "fallback URL" in out, out


async def test_web_and_worker_point_to_botrt_up() -> None:
    for role in ("web", "worker"):
        code, out = await botrt(role, env={})
        assert code == 2 and "botrt up" in out


async def test_nlu_test_reports_accuracy_and_per_intent_f1() -> None:
    data = REPO / "tests" / "data" / "nlu"
    code, out = await botrt("nlu", "test", str(data / "bistro.toml"), str(data / "bistro_heldout.jsonl"), env={})
    assert code == 0, out
    assert "accuracy" in out.lower() and "f1" in out.lower()
    assert "book_table" in out and "opening_hours" in out
    code, out = await botrt("nlu", "test", "no-such-bot", str(data / "bistro_heldout.jsonl"), env={"BOTRT_BOTS": str(data)})
    assert code != 0 and "no-such-bot" in out
