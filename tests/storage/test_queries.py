"""Every named query file is used by the code, and every name the code uses exists."""

from __future__ import annotations

import re

import pytest

from storage.queries import QUERIES
from tests.conftest import REPO

PACKAGES = ("runtime", "adapters", "engine", "storage", "plugins", "botrt", "scripts", "loadtests")
NAME = re.compile(r"""QUERIES\[\s*["']([a-z0-9_/]+)["']\s*\]""")


def _used_names() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            names.update(NAME.findall(path.read_text()))
    return names


def test_every_query_name_used_exists() -> None:
    missing = sorted(_used_names() - set(QUERIES))
    assert missing == [], f"code refers to queries with no file: {missing}"


def test_every_query_file_is_used() -> None:
    unused = sorted(set(QUERIES) - _used_names())
    assert unused == [], f"query files nothing uses: {unused}"


def test_an_unknown_name_says_which_file_is_missing() -> None:
    with pytest.raises(KeyError, match="nope/nothing.sql"):
        QUERIES["nope/nothing"]


def test_no_sql_strings_in_python() -> None:
    sql = re.compile(r"""["'](\s*)(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b""")
    offenders = [
        str(path.relative_to(REPO))
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if sql.search(path.read_text())
    ]
    assert offenders == []
