"""What each function loads at cold start: the SQS workers never load the HTTP router, its
OpenAPI machinery, Powertools' parser models or PyJWT; the HTTP functions never load the
batch processor. (`make bench` measures the time; this keeps the boundaries from eroding.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKERS = ("deliver", "receipts")
HTTP_FUNCTIONS = ("config", "register", "send", "unregister")
NOT_IN_WORKERS = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.parser",
    "jwt",
    "pushgate.api",
    "pushgate.params",
)
NOT_IN_HTTP_FUNCTIONS = ("aws_lambda_powertools.utilities.batch", "pushgate.worker")
_PROBE = (
    "import json, sys; sys.path[:0] = {paths!r}; import app; print(json.dumps(sorted(sys.modules)))"
)


def _modules_loaded_by(function: str) -> list[str]:
    folder = REPO / "functions" / function
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(paths=[str(folder), str(REPO / "layers/pushgate")])],
        cwd=folder,
        env={"AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


def _under(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


@pytest.mark.parametrize("function", WORKERS)
def test_imports_sqs_workers_load_no_http_machinery(function):
    modules = _modules_loaded_by(function)

    assert "pushgate.worker" in modules
    assert _under(modules, NOT_IN_WORKERS) == []


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_imports_http_functions_load_no_batch_processor(function):
    modules = _modules_loaded_by(function)

    assert "pushgate.api" in modules
    assert _under(modules, NOT_IN_HTTP_FUNCTIONS) == []
