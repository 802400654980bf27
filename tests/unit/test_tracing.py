"""What X-Ray traces in Lambda: AWS calls (botocore), never the provider or webhook requests
(httpx), whose URLs are credentials and whose count is the fan-out's. Checked by importing
each function as Lambda would, with tracing on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import app
import botocore.client, httpx
from aws_xray_sdk.core import patcher
from pushgate.outbound import CookielessClient
print(json.dumps({{
    "patched": sorted(patcher._PATCHED_MODULES),
    "botocore_traced": hasattr(botocore.client, "_xray_enabled"),
    "httpx_client": httpx.AsyncClient.__module__,
    "cookieless_bases": [c.__module__ + "." + c.__name__ for c in CookielessClient.__mro__],
}}))
"""


def _lambda_import(function: str, tmp_path: Path) -> dict:
    folder = REPO / "functions" / function
    env = {
        "PATH": "",
        "LAMBDA_TASK_ROOT": str(folder),  # Lambda: Powertools' Tracer is on, and patches
        "AWS_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"pushgate-{function}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "POWERTOOLS_SERVICE_NAME": "pushgate",
        "TMPDIR": str(tmp_path),
    }
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE.format(paths=[str(folder), str(REPO / "layers/pushgate")])],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize("function", ["deliver", "receipts", "send"])
def test_tracing_in_lambda_patches_botocore_and_leaves_httpx_alone(function, tmp_path):
    loaded = _lambda_import(function, tmp_path)

    assert loaded["patched"] == ["botocore"]
    assert loaded["botocore_traced"] is True
    assert loaded["httpx_client"] == "httpx"
    assert not any("aws_xray_sdk" in base for base in loaded["cookieless_bases"])
