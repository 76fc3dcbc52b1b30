"""Knowledge load: 100k chunks of real sentence embeddings through storage, then HNSW vs exact.

Measures the ingest rate through PgKnowledgeStore (documents of 50 chunks, the HNSW and GIN
indexes in place), the HNSW build time of the whole table (REINDEX, with the memory and
parallel workers it is given), and for held-out real queries: recall@10 of the HNSW scan
against exact search and its latency at several ef_search values, plus the latency of the
product's full hybrid search.

    python -m loadtests.knowledge --chunks 100000 --queries 500 --plot loadtests/out/knowledge.png

Vectors come from loadtests/knowledge_corpus.py (embedded once, cached under .botrt/cache/).
It runs its own embedded PostgreSQL in a temporary directory and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import asyncpg
import msgspec
import numpy as np
from pgvector import Vector

from botrt.database import database_dsn
from botrt.services import migrate_database
from loadtests.common import percentile, print_table
from loadtests.knowledge_corpus import Corpus, Vectors, embed_corpus, load_corpus, synthesize
from runtime.config import Settings
from storage.knowledge import EF_SEARCH, ChunkRow, DocumentWrite, PgKnowledgeStore, ensure_bot, search
from storage.pool import connect_admin, create_app_pool, register_admin_codecs
from storage.queries import QUERIES
from storage.tenancy import act_for

DOC_CHUNKS: Final = 50
EF_SWEEP: Final = (10, 20, 40, 64, 100, 150, 200)
K: Final = 10


class Figures(msgspec.Struct, kw_only=True):
    """Everything the run measured, written as JSON beside the plot."""

    date: str
    machine: str
    # 1-minute load average before the run: anything else on these two cores skews the figures.
    load_before: float
    command: str
    chunks: int
    real_chunks: int
    synthetic_chunks: int
    queries: int
    ingest_seconds: float
    ingest_rate: float
    build_seconds: float
    build_memory: str
    build_workers: int
    # The same REINDEX with the server's defaults (maintenance_work_mem 64MB), when asked for.
    baseline_build_seconds: float | None
    server: dict[str, str]
    sweep: list[dict[str, float]]
    hybrid_ef: int
    hybrid_p50_ms: float
    hybrid_p99_ms: float
    exact_p50_ms: float
    exact_p99_ms: float
    plan: str


def _machine() -> str:
    cores = os.cpu_count() or 0
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {cores} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def _dataset(corpus: Corpus, real: Vectors, chunks: int, queries: int) -> tuple[Vectors, list[str], Vectors, int]:
    """(stored vectors, their texts, held-out query vectors, how many stored rows are real)."""
    if len(real) < queries + 1000:
        raise SystemExit(f"only {len(real)} real vectors cached; run python -m loadtests.knowledge_corpus first")
    held_out = real[-queries:]  # real embeddings never inserted: honest queries
    base = real[:-queries]
    # The product's parsers drop NUL (PostgreSQL text cannot hold it); a few docstrings have one.
    texts = [c.text.replace("\x00", "") for c in corpus.chunks[: len(base)]]
    real_rows = min(chunks, len(base))
    extra = synthesize(base, chunks - real_rows)
    rng = np.random.default_rng(11)
    # A synthetic row carries the text of a real passage, so tsvectors stay realistic too.
    texts = texts[:real_rows] + [texts[int(i)] for i in rng.integers(0, len(base), size=len(extra))]
    return np.concatenate([base[:real_rows], extra]), texts, held_out, real_rows


async def _ingest(
    store: PgKnowledgeStore, org_id: str, kb_id: str, vectors: Vectors, texts: list[str], workers: int
) -> float:
    """Writes the chunks as documents of DOC_CHUNKS through the store; returns seconds."""
    from tqdm import tqdm

    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=workers * 2)
    bar = tqdm(total=len(vectors), desc="ingesting", unit="chunk")

    async def worker() -> None:
        while (doc := await queue.get()) is not None:
            lo, hi = doc * DOC_CHUNKS, min((doc + 1) * DOC_CHUNKS, len(vectors))
            rows = [
                ChunkRow(
                    ordinal=i - lo,
                    content=texts[i],
                    words=len(texts[i].split()),
                    embedding=vectors[i],
                    metadata={"start": 0, "end": len(texts[i])},
                )
                for i in range(lo, hi)
            ]
            document = DocumentWrite(
                uri=f"loadtest://doc/{doc}",
                title=f"doc {doc}",
                mime_type="text/plain",
                content_sha256=doc.to_bytes(32, "big"),
                byte_size=sum(len(r.content) for r in rows),
                embedding_model="all-MiniLM-L6-v2",
            )
            await store.write_document(org_id, kb_id, document, rows)
            bar.update(len(rows))

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
        for doc in range((len(vectors) + DOC_CHUNKS - 1) // DOC_CHUNKS):
            await queue.put(doc)
        for _ in range(workers):
            await queue.put(None)
    bar.close()
    return time.perf_counter() - started


async def _build(dsn: str, memory: str, workers: int) -> float:
    con = await connect_admin(dsn)
    try:
        await con.execute(QUERIES["knowledge/set_build_settings"], memory, workers)
        started = time.perf_counter()
        await con.execute(QUERIES["knowledge/reindex_vectors"])
        seconds = time.perf_counter() - started
        await con.execute(QUERIES["knowledge/analyze_chunks"])
    finally:
        await con.close()
    return seconds


async def _vector_queries(
    pool: asyncpg.Pool, org_id: str, kb_id: str, queries: Vectors, ef: int, *, exact: bool = False
) -> tuple[list[list[str]], list[float]]:
    """Top-K ids and seconds per query, one query at a time (latency, not throughput)."""
    found: list[list[str]] = []
    seconds: list[float] = []
    async with pool.acquire() as con:
        for q in queries:
            vector = Vector(q)
            started = time.perf_counter()
            async with con.transaction(readonly=True):
                await con.execute(QUERIES["knowledge/begin_search"], org_id, ef)
                if exact:
                    await con.execute(QUERIES["knowledge/disable_index_scans"])
                rows = await con.fetch(QUERIES["knowledge/select_nearest"], vector, kb_id, K)
            seconds.append(time.perf_counter() - started)
            found.append([str(r["id"]) for r in rows])
    return found, seconds


async def _hybrid_queries(
    pool: asyncpg.Pool, org_id: str, bot_id: str, queries: Vectors, words: list[str], ef: int
) -> list[float]:
    """Seconds per call of the product's hybrid search (vector + full text, fused in SQL)."""
    seconds = []
    async with pool.acquire() as con:
        for q, text in zip(queries, words, strict=True):
            started = time.perf_counter()
            async with con.transaction(readonly=True):
                await search(
                    con,
                    org_id,
                    bot_id,
                    text=text,
                    vector=q.tolist(),
                    embedding_model="all-MiniLM-L6-v2",
                    limit=5,
                    ef_search=ef,
                )
            seconds.append(time.perf_counter() - started)
    return seconds


def _recall(found: Sequence[list[int]], truth: np.ndarray[Any, Any]) -> float:
    hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (len(found) * K)


def _plot(figures: Figures, hybrid: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    efs = [row["ef_search"] for row in figures.sweep]
    left.plot(efs, [row["recall"] for row in figures.sweep], "o-", color="tab:blue", label="recall@10")
    left.axhline(0.95, color="tab:blue", linestyle=":", linewidth=1)
    left.set_xlabel("hnsw.ef_search")
    left.set_ylabel("recall@10 vs exact search", color="tab:blue")
    twin = left.twinx()
    twin.plot(efs, [row["p50_ms"] for row in figures.sweep], "s--", color="tab:orange", label="p50")
    twin.plot(efs, [row["p99_ms"] for row in figures.sweep], "^-", color="tab:red", label="p99")
    twin.axhline(10, color="tab:red", linestyle=":", linewidth=1)
    twin.set_ylabel("query latency (ms)", color="tab:red")
    left.set_title(f"HNSW on {figures.chunks:,} x 384 (m=16, ef_construction=64)")
    lines = left.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    left.legend(lines, ["recall@10", "p50", "p99"], loc="center right")
    right.hist([s * 1000 for s in hybrid], bins=60, color="tab:green")
    right.axvline(figures.hybrid_p99_ms, color="tab:red", linestyle="--", label=f"p99 {figures.hybrid_p99_ms:.1f} ms")
    right.set_xlabel(f"hybrid search latency, ms (ef_search {figures.hybrid_ef}, vector + full text, RRF)")
    right.set_ylabel("queries")
    right.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


async def run(args: argparse.Namespace) -> Figures:
    load_before = os.getloadavg()[0]
    corpus = load_corpus(200_000)
    deadline = args.embed_minutes * 60 if args.embed_minutes is not None else None
    real = embed_corpus(corpus, limit=args.chunks + args.queries, deadline_s=deadline)
    vectors, texts, queries, real_rows = _dataset(corpus, real, args.chunks, args.queries)
    print(
        f"dataset: {len(vectors):,} chunks ({real_rows:,} real, {len(vectors) - real_rows:,} synthetic), "
        f"{len(queries)} held-out real queries",
        file=sys.stderr,
    )
    data_dir = Path(tempfile.mkdtemp(prefix="botrt-kb-"))
    try:
        async with database_dsn(Settings(data_dir=str(data_dir))) as dsn:
            await migrate_database(dsn)
            admin = await connect_admin(dsn)
            await register_admin_codecs(admin)
            ids = await ensure_bot(admin, org_slug="loadtest", bot_slug="kb", name="kb")
            await admin.close()
            assert ids is not None
            org_id, bot_id = ids
            pool = await create_app_pool(dsn, size=args.workers + 1)
            try:
                store = PgKnowledgeStore(pool)
                kb = await store.ensure_knowledge_base(org_id, bot_id)
                assert kb is not None
                ingest_s = await _ingest(store, org_id, kb.id, vectors, texts, args.workers)
                print(f"ingest: {len(vectors) / ingest_s:,.0f} chunks/s", file=sys.stderr)
                baseline_s = None
                if args.baseline_build:
                    baseline_s = await _build(dsn, "64MB", 2)
                    print(f"HNSW build with the defaults: {baseline_s:.1f} s", file=sys.stderr)
                build_s = await _build(dsn, args.build_memory, args.build_workers)
                print(f"HNSW build: {build_s:.1f} s", file=sys.stderr)
                async with pool.acquire() as con, con.transaction():
                    await act_for(con, org_id)
                    server = dict(await con.fetchrow(QUERIES["knowledge/select_server_settings"]))
                    rows = await con.fetch(QUERIES["knowledge/select_chunk_positions"])
                    explained = await con.fetch(QUERIES["knowledge/explain_nearest"], Vector(queries[0]), kb.id, K)
                    plan = "\n".join(r[0] for r in explained)
                index_of = {str(r["id"]): int(r["uri"].rsplit("/", 1)[1]) * DOC_CHUNKS + r["ordinal"] for r in rows}
                truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]
                sweep = []
                for ef in EF_SWEEP:
                    found, seconds = await _vector_queries(pool, org_id, kb.id, queries, ef)
                    recall = _recall([[index_of[i] for i in f] for f in found], truth)
                    sweep.append(
                        {
                            "ef_search": ef,
                            "recall": recall,
                            "p50_ms": percentile(seconds, 50) * 1000,
                            "p99_ms": percentile(seconds, 99) * 1000,
                            "mean_ms": float(np.mean(seconds)) * 1000,
                        }
                    )
                    print(f"ef_search {ef}: recall@10 {recall:.3f}, p99 {sweep[-1]['p99_ms']:.2f} ms", file=sys.stderr)
                exact_found, exact_s = await _vector_queries(pool, org_id, kb.id, queries[:50], 40, exact=True)
                exact_recall = _recall([[index_of[i] for i in f] for f in exact_found], truth[:50])
                assert exact_recall > 0.999, f"exact search disagrees with numpy: {exact_recall}"
                words = [
                    " ".join(corpus.chunks[len(real) - args.queries + i].text.split()[:6]) for i in range(len(queries))
                ]
                hybrid = await _hybrid_queries(pool, org_id, bot_id, queries, words, args.ef)
            finally:
                await pool.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    figures = Figures(
        date=dt.date.today().isoformat(),
        machine=_machine(),
        load_before=load_before,
        command=" ".join(["python -m loadtests.knowledge", *sys.argv[1:]]),
        chunks=len(vectors),
        real_chunks=real_rows,
        synthetic_chunks=len(vectors) - real_rows,
        queries=len(queries),
        ingest_seconds=ingest_s,
        ingest_rate=len(vectors) / ingest_s,
        build_seconds=build_s,
        build_memory=args.build_memory,
        build_workers=args.build_workers,
        baseline_build_seconds=baseline_s,
        server={k: str(v) for k, v in server.items()},
        sweep=sweep,
        hybrid_ef=args.ef,
        hybrid_p50_ms=percentile(hybrid, 50) * 1000,
        hybrid_p99_ms=percentile(hybrid, 99) * 1000,
        exact_p50_ms=percentile(exact_s, 50) * 1000,
        exact_p99_ms=percentile(exact_s, 99) * 1000,
        plan=plan,
    )
    if args.plot:
        _plot(figures, hybrid, Path(args.plot))
        Path(args.plot).with_suffix(".json").write_bytes(msgspec.json.format(msgspec.json.encode(figures)))
    return figures


def report(f: Figures) -> None:
    print_table(
        f"Knowledge: {f.chunks:,} chunks x 384 ({f.real_chunks:,} real embeddings), {f.queries} held-out queries",
        [
            (
                "ingest through storage",
                f"{f.ingest_rate:,.0f} chunks/s ({f.ingest_seconds:.1f} s, HNSW + GIN in place)",
            ),
            (
                "HNSW build (REINDEX)",
                f"{f.build_seconds:.1f} s (maintenance_work_mem {f.build_memory}, "
                f"{f.build_workers} parallel worker(s))",
            ),
            *(
                [("HNSW build, defaults", f"{f.baseline_build_seconds:.1f} s (maintenance_work_mem 64MB, 2 workers)")]
                if f.baseline_build_seconds is not None
                else []
            ),
            ("index / table size", f"{f.server['hnsw_size']} / {f.server['table_size']}"),
            ("exact search p50 / p99", f"{f.exact_p50_ms:.1f} / {f.exact_p99_ms:.1f} ms"),
            *[
                (
                    f"HNSW ef_search {int(r['ef_search'])}",
                    f"recall@10 {r['recall']:.3f}  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms",
                )
                for r in f.sweep
            ],
            (f"hybrid search (ef {f.hybrid_ef})", f"p50 {f.hybrid_p50_ms:.2f} ms  p99 {f.hybrid_p99_ms:.2f} ms"),
            ("server", ", ".join(f"{k} {v}" for k, v in f.server.items() if not k.endswith("size"))),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4, help="concurrent document writers")
    parser.add_argument("--build-memory", default="1GB", help="maintenance_work_mem for the HNSW build")
    parser.add_argument("--build-workers", type=int, default=1, help="max_parallel_maintenance_workers")
    parser.add_argument("--baseline-build", action="store_true", help="also time a build with the defaults")
    parser.add_argument("--ef", type=int, default=EF_SEARCH, help="hnsw.ef_search of the hybrid search")
    parser.add_argument(
        "--embed-minutes",
        type=float,
        default=None,
        help="embed uncached corpus passages for at most this long; synthesize the rest",
    )
    parser.add_argument("--plot", default=None, help="PNG path (a .json of the figures is written beside it)")
    args = parser.parse_args()
    report(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
