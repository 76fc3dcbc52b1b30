"""engine.agents reaches HTTP only through its ports: importing it loads no aiohttp."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_engine_agents_does_not_import_aiohttp() -> None:
    probe = (
        "import sys, engine.agents; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'aiohttp', 'botrt', 'adapters', 'storage'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
