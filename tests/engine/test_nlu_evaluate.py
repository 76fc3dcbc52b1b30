"""`botrt nlu test`: accuracy and per-intent F1 on the held-out file in tests/data/nlu."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from engine.botfile import load_bot_file
from engine.errors import BotFileError
from engine.nlu import Nlu
from engine.nlu.evaluate import (
    EvaluationReport,
    LabelledUtterance,
    evaluate,
    evaluate_files,
    format_report,
    load_heldout,
)
from tests.conftest import REPO
from tests.engine.test_nlu import HashingEmbedder

DATA = REPO / "tests" / "data" / "nlu"
BOT = DATA / "bistro.toml"
HELDOUT = DATA / "bistro_heldout.jsonl"
# 6 intents x 12 examples; 40 held-out messages (37 in scope, 3 out of scope). The lexical
# classifier gets 38/40 here (one one-word greeting falls under the threshold, one
# out-of-scope question is taken for an intent); the bar leaves room for retuning.
LEXICAL_ACCURACY = 0.90
LEXICAL_MACRO_F1 = 0.85


async def test_lexical_accuracy_on_the_held_out_file() -> None:
    report = await evaluate_files(BOT, HELDOUT)
    assert report.classifier == "lexical" and report.total == 40
    assert report.accuracy >= LEXICAL_ACCURACY, format_report(report)
    assert report.macro_f1 >= LEXICAL_MACRO_F1, format_report(report)
    per_intent = {m.intent: m for m in report.per_intent}
    assert set(per_intent) >= {"greet", "goodbye", "book_table", "opening_hours", "order_status", "talk_to_human"}
    for intent in ("book_table", "opening_hours", "order_status", "talk_to_human"):
        assert per_intent[intent].recall >= 0.8, format_report(report)
    assert report.latency_p99_ms < 10


async def test_embedding_classifier_on_the_held_out_file() -> None:
    # Only the mechanism is under test here: the hashing embedder is no sentence model.
    report = await evaluate_files(BOT, HELDOUT, embedder=HashingEmbedder())
    assert report.classifier == "embedding" and report.accuracy >= 0.6, format_report(report)


async def test_metrics_are_computed_per_intent() -> None:
    nlu = Nlu.lexical(load_bot_file(BOT).nlu)  # type: ignore[arg-type]
    examples = [
        LabelledUtterance(text="hello there", intent="greet"),
        LabelledUtterance(text="I'd like to book a table", intent="book_table"),
        LabelledUtterance(text="when do you open", intent="book_table"),  # mislabelled on purpose
        LabelledUtterance(text="zzzz qqqq", intent="fallback"),
    ]
    report = await evaluate(nlu, examples)
    assert (report.correct, report.total, report.accuracy) == (3, 4, 0.75)
    metrics = {m.intent: m for m in report.per_intent}
    assert (metrics["book_table"].precision, metrics["book_table"].recall, metrics["book_table"].support) == (
        1.0,
        0.5,
        2,
    )
    assert metrics["opening_hours"].precision == 0.0 and metrics["opening_hours"].support == 0
    assert metrics["book_table"].f1 == pytest.approx(2 / 3, abs=1e-3)
    assert [(m.expected, m.predicted) for m in report.misses] == [("book_table", "opening_hours")]
    table = format_report(report)
    assert "book_table" in table and "accuracy 0.750 (3/4)" in table and "misses:" in table
    # The report is JSON for nlu_training_runs.metrics.
    assert msgspec.json.decode(msgspec.json.encode(report), type=EvaluationReport) == report


def test_held_out_files_in_jsonl_or_toml(tmp_path: Path) -> None:
    assert len(load_heldout(HELDOUT)) == 40
    toml = tmp_path / "heldout.toml"
    toml.write_text('[[examples]]\ntext = "hi"\nintent = "greet"\n')
    assert load_heldout(toml) == [LabelledUtterance(text="hi", intent="greet")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi"}\n')
    with pytest.raises(BotFileError, match="bad.jsonl"):
        load_heldout(bad)


async def test_labels_the_bot_does_not_know_are_refused(tmp_path: Path) -> None:
    heldout = tmp_path / "h.jsonl"
    heldout.write_text('{"text": "hi", "intent": "smalltalk"}\n')
    with pytest.raises(BotFileError, match="smalltalk"):
        await evaluate_files(BOT, heldout)
    with pytest.raises(BotFileError, match="no \\[nlu\\]"):
        await evaluate_files(REPO / "tests" / "data" / "bots" / "echo.toml", heldout)
