"""`botrt kb ingest BOT PATH...` end to end through kb_ingest, on the test's own database."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from botrt.kb import expand_paths, kb_ingest
from runtime.config import Settings
from runtime.errors import BotrtError
from tests.knowledge.conftest import DATA, DOCUMENTS


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "nested").mkdir(parents=True)
    for name in DOCUMENTS[:3]:
        shutil.copy(DATA / name, folder / name)
    shutil.copy(DATA / DOCUMENTS[3], folder / "nested" / DOCUMENTS[3])
    (folder / "notes.docx").write_bytes(b"skipped: not a supported type")
    return folder


def test_directories_are_walked_for_supported_documents(docs: Path) -> None:
    found = [p.relative_to(docs).as_posix() for p in expand_paths([str(docs), str(docs / "warranty.txt")])]
    assert found == ["nested/care-guide.pdf", "returns-policy.md", "shipping.html", "warranty.txt"]


async def _count(database_url: str, bot_slug: str) -> tuple[int, int]:
    con = await asyncpg.connect(database_url)
    try:
        row = await con.fetchrow(
            "SELECT count(DISTINCT d.id) AS documents, count(c.id) AS chunks FROM bots b"
            " JOIN bot_knowledge_bases l ON l.bot_id = b.id"
            " JOIN knowledge_documents d ON d.knowledge_base_id = l.knowledge_base_id"
            " JOIN knowledge_chunks c ON c.document_id = d.id WHERE b.slug = $1",
            bot_slug,
        )
    finally:
        await con.close()
    assert row is not None
    return row["documents"], row["chunks"]


def test_kb_ingest_then_again_with_nothing_changed(
    settings: Settings,
    docs: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    monkeypatch.setenv("BOTRT_EMBEDDINGS", "none")  # this test is about the command, not the model
    assert kb_ingest(settings, "demo", [str(docs)]) == 0
    out, err = capsys.readouterr()
    assert "4 document(s): 4 created, 0 updated, 0 unchanged, 0 failed" in out
    assert "full-text search only" in out
    assert "kb demo" in err and "100%" in err  # the progress bar, on stderr
    documents, chunks = asyncio.run(_count(database_url, "demo"))
    assert documents == 4 and chunks > 4

    assert kb_ingest(settings, "demo", [str(docs)]) == 0
    out, _ = capsys.readouterr()
    assert "0 created, 0 updated, 4 unchanged, 0 failed; 0 chunk(s) written" in out
    assert asyncio.run(_count(database_url, "demo")) == (documents, chunks)


def test_kb_ingest_reports_failures_and_unknown_bots(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTRT_EMBEDDINGS", "none")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert kb_ingest(settings, "demo", [str(broken)]) == 1
    out, err = capsys.readouterr()
    assert "1 failed" in out and "broken.pdf" in err
    assert kb_ingest(settings, "demo", [str(tmp_path / "nothing-here")]) == 1  # a missing file fails
    (tmp_path / "empty").mkdir()
    assert kb_ingest(settings, "demo", [str(tmp_path / "empty")]) == 2  # nothing to ingest at all
    capsys.readouterr()
    with pytest.raises(BotrtError, match="no bot 'ghost'"):
        kb_ingest(settings, "ghost", [str(broken)])
