"""Fixtures for the crypto tests: a fresh user agent, and the node interop scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

INTEROP_DIR = Path(__file__).resolve().parents[2] / "interop"
NODE_TIMEOUT_SECONDS = 30

NodeRunner = Callable[[str, dict[str, object]], dict[str, object]]


@pytest.fixture(scope="session")
def node() -> NodeRunner:
    """Run a script of tests/interop with a JSON request on stdin; return its JSON reply."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed; the web-push interop tests need it")
    if not (INTEROP_DIR / "node_modules" / "web-push").is_dir():
        pytest.skip("tests/interop/node_modules is missing; run `make venv` (npm ci)")

    def run(script: str, request: dict[str, object]) -> dict[str, object]:
        completed = subprocess.run(
            [executable, str(INTEROP_DIR / script)],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr.decode(errors="replace")
        return json.loads(completed.stdout)

    return run
