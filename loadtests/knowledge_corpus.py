"""The knowledge load test's corpus: real text from installed packages, embedded once and cached.

Texts are the docstrings and package descriptions (METADATA) of this interpreter's
site-packages, chunked with the product's chunker. Their all-MiniLM-L6-v2 embeddings are cached
under .botrt/cache/knowledge/ in parts, so an interrupted run resumes where it stopped. When
the corpus is shorter than the test needs, the remaining rows are mixtures of real neighbouring
vectors plus a little noise (the local structure of real embeddings, which HNSW recall depends
on), never uniform random vectors.
"""

from __future__ import annotations

import ast
import hashlib
import random
import sysconfig
import time
import warnings
from pathlib import Path
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

from engine.knowledge.chunking import chunk_document
from engine.knowledge.parsing import parse_markdown
from engine.knowledge.types import ParsedDocument, Section

REPO: Final = Path(__file__).resolve().parent.parent
CACHE: Final = REPO / ".botrt" / "cache" / "knowledge"
PART: Final = 1024  # vectors per cache file
# Loadtest chunks are shorter than the product's 200 words: embedding 100k chunks of 200 words
# takes over an hour on two cores, and the vectors are 384 floats whatever the length.
CHUNK_WORDS: Final = 96
CHUNK_OVERLAP: Final = 16
MAX_TOKENS: Final = 128
MIN_WORDS: Final = 12

Vectors = npt.NDArray[np.float32]


class CorpusChunk(msgspec.Struct, frozen=True, array_like=True):
    """One real passage: where it comes from and its text."""

    title: str
    heading: str
    text: str


class Corpus(msgspec.Struct, frozen=True):
    """The passages in a fixed, shuffled order, and a fingerprint of their texts."""

    fingerprint: str
    chunks: list[CorpusChunk]


def _docstrings(path: Path, root: Path) -> list[tuple[str, str]]:
    """(qualified name, docstring) of a module, its classes and functions."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old sources
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return []
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}.{child.name}"
                doc = ast.get_docstring(child)
                if doc:
                    found.append((name, doc))
                visit(child, name)

    doc = ast.get_docstring(tree)
    if doc:
        found.append((module, doc))
    visit(tree, module)
    return found


def build_corpus(limit: int) -> Corpus:
    """Chunks of every docstring and package description, deduplicated, shuffled with a fixed seed."""
    root = Path(sysconfig.get_paths()["purelib"])
    seen: set[str] = set()
    chunks: list[CorpusChunk] = []

    def add(title: str, doc: ParsedDocument) -> None:
        for chunk in chunk_document(doc, size=CHUNK_WORDS, overlap=CHUNK_OVERLAP):
            if chunk.words >= MIN_WORDS and chunk.text not in seen:
                seen.add(chunk.text)
                chunks.append(CorpusChunk(title=title, heading=chunk.heading, text=chunk.text))

    for path in sorted(root.rglob("*.py")):
        for name, doc in _docstrings(path, root):
            if len(doc.split()) >= MIN_WORDS:
                add(
                    name.rsplit(".", 1)[0],
                    ParsedDocument(title=name, mime_type="text/plain", sections=(Section(text=doc, headings=(name,)),)),
                )
    for path in sorted(root.glob("*.dist-info/METADATA")):
        # RFC 822 headers, a blank line, then the README (Markdown or reStructuredText).
        _, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n\n")
        add(path.parent.name, parse_markdown(body.encode(), path.parent.name + ".md"))
    random.Random(384).shuffle(chunks)
    chunks = chunks[:limit]
    digest = hashlib.sha256("\x00".join(c.text for c in chunks).encode()).hexdigest()[:16]
    return Corpus(fingerprint=digest, chunks=chunks)


def load_corpus(limit: int) -> Corpus:
    """The cached corpus (built on first use, about a minute)."""
    path = CACHE / f"corpus-{limit}.msgpack"
    if path.exists():
        return msgspec.msgpack.decode(path.read_bytes(), type=Corpus)
    CACHE.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(limit)
    path.write_bytes(msgspec.msgpack.encode(corpus))
    return corpus


def _part_path(corpus: Corpus, index: int) -> Path:
    return CACHE / f"vectors-{corpus.fingerprint}" / f"part-{index:05d}.npy"


def cached_vectors(corpus: Corpus) -> Vectors:
    """The embeddings cached so far, in corpus order (all parts present from the first on)."""
    parts: list[Vectors] = []
    index = 0
    while (path := _part_path(corpus, index)).exists():
        parts.append(np.load(path))
        index += 1
    return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def embed_corpus(corpus: Corpus, *, limit: int, deadline_s: float | None = None) -> Vectors:
    """Embeds the corpus up to `limit` passages, resuming from the cache; stops at the deadline."""
    from tqdm import tqdm

    from engine.embeddings import SentenceTransformerEmbedder

    have = cached_vectors(corpus)
    target = min(limit, len(corpus.chunks))
    if len(have) >= target:
        return have[:target]
    embedder = SentenceTransformerEmbedder(batch_size=64, max_tokens=MAX_TOKENS)
    started = time.monotonic()
    index = len(have) // PART
    with tqdm(total=target, initial=index * PART, desc="embedding corpus", unit="chunk") as bar:
        while index * PART < target:
            if deadline_s is not None and time.monotonic() - started > deadline_s:
                break
            batch = corpus.chunks[index * PART : (index + 1) * PART]
            vectors = embedder.encode_blocking([f"{c.heading}: {c.text}" for c in batch])
            path = _part_path(corpus, index)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.rename(path)  # a part is there whole or not at all
            bar.update(len(batch))
            index += 1
    embedder.close()
    return cached_vectors(corpus)[:target]


def synthesize(real: Vectors, count: int, *, seed: int = 7, neighbours: int = 10) -> Vectors:
    """`count` vectors that mix a real vector with one of its nearest real neighbours, plus noise.

    The mixing weight and noise keep each synthetic vector about as close to its anchor as real
    neighbours are to each other, so clusters and their density stay those of the real corpus.
    """
    if count <= 0:
        return np.zeros((0, real.shape[1]), dtype=np.float32)
    rng = np.random.default_rng(seed)
    anchors = rng.integers(0, len(real), size=count)
    unique = np.unique(anchors)
    nearest: dict[int, npt.NDArray[np.int64]] = {}
    for start in range(0, len(unique), 2048):
        block = unique[start : start + 2048]
        sims = real[block] @ real.T
        sims[np.arange(len(block)), block] = -1.0
        top = np.argpartition(-sims, neighbours, axis=1)[:, :neighbours]
        for row, anchor in enumerate(block):
            nearest[int(anchor)] = top[row]
    partners = np.array([nearest[int(a)][rng.integers(0, neighbours)] for a in anchors])
    weights = rng.uniform(0.15, 0.5, size=(count, 1)).astype(np.float32)
    mixed = (1 - weights) * real[anchors] + weights * real[partners]
    # Noise of about a tenth of a unit vector's length, spread over every dimension.
    mixed += rng.normal(0.0, 0.1 / np.sqrt(real.shape[1]), size=mixed.shape).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    result: Vectors = mixed.astype(np.float32)
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Embeds the knowledge load test's corpus into the cache.")
    parser.add_argument("--limit", type=int, default=101_000)
    parser.add_argument("--minutes", type=float, default=None, help="stop embedding after this long")
    args = parser.parse_args()
    corpus = load_corpus(200_000)
    print(f"corpus: {len(corpus.chunks)} passages, fingerprint {corpus.fingerprint}")
    vectors = embed_corpus(corpus, limit=args.limit, deadline_s=args.minutes * 60 if args.minutes else None)
    print(f"cached: {len(vectors)} vectors")
