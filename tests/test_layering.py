"""Every import points down: each module, imported alone, pulls in only the layers below it."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import REPO

ALLOWED = {
    "runtime": {"runtime"},
    "adapters": {"adapters", "runtime"},
    "storage": {"storage", "runtime"},
    "engine": {"engine", "runtime", "storage"},
    "plugins": {"plugins", "runtime"},
    "botrt": {"botrt", "runtime", "adapters", "storage", "engine", "plugins"},
}

PROBE = """
import importlib, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
ours = {m.split('.')[0] for m in set(sys.modules) - before} & set(sys.argv[2].split(','))
print(','.join(sorted(ours)))
"""


def _modules() -> list[str]:
    modules = []
    for package in ALLOWED:
        for path in sorted((REPO / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def _imported(module: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, ",".join(ALLOWED)],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    return set(filter(None, result.stdout.strip().split(",")))


def test_imports_point_down() -> None:
    modules = _modules()
    assert len(modules) > 20
    with ThreadPoolExecutor(max_workers=4) as pool:
        imported = dict(zip(modules, pool.map(_imported, modules), strict=True))
    violations = {
        module: sorted(layers - ALLOWED[module.split(".")[0]])
        for module, layers in imported.items()
        if layers - ALLOWED[module.split(".")[0]]
    }
    assert violations == {}, f"imports pointing up: {violations}"
