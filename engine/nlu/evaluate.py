"""`botrt nlu test`: accuracy and per-intent precision, recall and F1 on a held-out file."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from engine.errors import BotFileError
from engine.nlu.nlu import Nlu
from engine.nlu.types import Embedder


class LabelledUtterance(msgspec.Struct, frozen=True, kw_only=True):
    """A held-out message and the intent it should get (the fallback intent for out-of-scope)."""

    text: str
    intent: str


class IntentMetrics(msgspec.Struct, frozen=True, kw_only=True):
    intent: str
    precision: float
    recall: float
    f1: float
    support: int  # held-out messages labelled with this intent


class Miss(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    expected: str
    predicted: str
    confidence: float


class EvaluationReport(msgspec.Struct, frozen=True, kw_only=True):
    """The figures `botrt nlu test` prints; nlu_training_runs.metrics can store it as JSON."""

    classifier: str
    total: int
    correct: int
    accuracy: float
    macro_f1: float  # over the intents with support or predictions
    per_intent: list[IntentMetrics]
    misses: list[Miss]
    latency_p50_ms: float
    latency_p99_ms: float


def load_heldout(path: Path) -> list[LabelledUtterance]:
    """Reads JSONL ({"text", "intent"} per line) or TOML ([[examples]] text, intent)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BotFileError(str(path), f"cannot read: {exc}") from exc
    rows: list[Any]
    try:
        if path.suffix == ".toml":
            rows = tomllib.loads(raw).get("examples", [])
        else:
            rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
        return msgspec.convert(rows, list[LabelledUtterance])
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise BotFileError(str(path), f"not a held-out file ({{text, intent}} rows): {exc}") from exc


async def evaluate(nlu: Nlu, examples: Sequence[LabelledUtterance]) -> EvaluationReport:
    """Classifies every example and scores the predictions against the labels."""
    known = nlu.intents | {nlu.spec.fallback_intent}
    unknown = sorted({e.intent for e in examples} - known)
    if unknown:
        raise BotFileError("held-out file", f"labels intents the bot does not have: {', '.join(unknown)}")
    pairs: list[tuple[str, str, float]] = []
    latencies: list[float] = []
    misses: list[Miss] = []
    for example in examples:
        started = time.perf_counter()
        understanding = await nlu.understand(example.text)
        latencies.append((time.perf_counter() - started) * 1000)
        pairs.append((example.intent, understanding.intent, understanding.confidence))
        if understanding.intent != example.intent:
            misses.append(
                Miss(
                    text=example.text,
                    expected=example.intent,
                    predicted=understanding.intent,
                    confidence=understanding.confidence,
                )
            )
    per_intent = []
    for intent in sorted({e for e, _, _ in pairs} | {p for _, p, _ in pairs}):
        tp = sum(1 for e, p, _ in pairs if e == intent and p == intent)
        predicted = sum(1 for _, p, _ in pairs if p == intent)
        support = sum(1 for e, _, _ in pairs if e == intent)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent.append(
            IntentMetrics(
                intent=intent, precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4), support=support
            )
        )
    correct = sum(1 for e, p, _ in pairs if e == p)
    latencies.sort()
    return EvaluationReport(
        classifier=nlu.classifier,
        total=len(pairs),
        correct=correct,
        accuracy=round(correct / len(pairs), 4) if pairs else 0.0,
        macro_f1=round(sum(m.f1 for m in per_intent) / len(per_intent), 4) if per_intent else 0.0,
        per_intent=per_intent,
        misses=misses,
        latency_p50_ms=round(_percentile(latencies, 0.50), 3),
        latency_p99_ms=round(_percentile(latencies, 0.99), 3),
    )


async def evaluate_files(bot_path: Path, heldout_path: Path, *, embedder: Embedder | None = None) -> EvaluationReport:
    """Loads a bot file and a held-out file and evaluates the bot's NLU (what `botrt nlu test` runs)."""
    from engine.botfile import load_bot_file  # botfile imports the NLU spec; import here avoids a cycle

    bot = load_bot_file(bot_path)
    if bot.nlu is None:
        raise BotFileError(str(bot_path), "has no [nlu] table")
    nlu = await Nlu.build(bot.nlu, embedder=embedder)
    return await evaluate(nlu, load_heldout(heldout_path))


def format_report(report: EvaluationReport) -> str:
    """A printable table: per-intent precision / recall / F1, totals, latency and the misses."""
    width = max([len("intent"), *(len(m.intent) for m in report.per_intent)])
    lines = [f"{'intent':<{width}}  precision  recall     f1  support"]
    for m in report.per_intent:
        lines.append(f"{m.intent:<{width}}  {m.precision:9.3f}  {m.recall:6.3f}  {m.f1:5.3f}  {m.support:7d}")
    lines.append("")
    lines.append(
        f"accuracy {report.accuracy:.3f} ({report.correct}/{report.total})  macro F1 {report.macro_f1:.3f}  "
        f"classifier {report.classifier}  latency p50 {report.latency_p50_ms:.2f} ms p99 {report.latency_p99_ms:.2f} ms"
    )
    if report.misses:
        lines.append("")
        lines.append("misses:")
        for miss in report.misses:
            lines.append(f"  {miss.text!r}: expected {miss.expected}, got {miss.predicted} ({miss.confidence:.2f})")
    return "\n".join(lines)


def _percentile(sorted_values: Sequence[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]
