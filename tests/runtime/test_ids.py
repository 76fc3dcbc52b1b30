"""UUIDv7 ids: valid, unique, and ordered by creation time across milliseconds."""

from __future__ import annotations

import time
import uuid

from runtime.ids import new_id


def test_ids_are_version_7_rfc_uuids_and_unique() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:100]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_ids_carry_the_time_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    after = time.time_ns() // 1_000_000
    millis = uuid.UUID(first).int >> 80
    assert before <= millis <= after
    assert first < second  # text order is time order, as in the B-tree
