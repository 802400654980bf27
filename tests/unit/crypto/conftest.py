"""Fixtures for the crypto tests: a fresh user agent, and the node interop scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

INTEROP_DIR = Path(__file__).resolve().parents[2] / "interop"
NODE_TIMEOUT_SECONDS = 30

NodeRunner = Callable[[str, dict[str, object]], dict[str, object]]


@dataclass(frozen=True)
class UserAgent:
    """A browser's side of a push subscription."""

    private_key: ec.EllipticCurvePrivateKey
    p256dh: bytes
    auth: bytes


@pytest.fixture
def user_agent() -> UserAgent:
    private_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return UserAgent(private_key, p256dh, os.urandom(16))


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
