"""Suite-wide fixtures: the local stack (one per pytest worker) and the environment that lets
in-process code talk to the same AWS emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from local.environ import patched_environ
from tests.user_agent import UserAgent, new_user_agent

if TYPE_CHECKING:
    from local.stack import LocalStack

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def local_stack(worker_id: str) -> Iterator[LocalStack]:
    """template.yaml running locally on free ports; workers start on first invocation.
    Function logs go to .local/logs/pytest-<worker>/ (gitignored, emptied at the start of
    each session) for post-mortems."""
    from local.stack import LocalStack

    log_dir = REPO / ".local" / "logs" / f"pytest-{worker_id}"
    for old_log in log_dir.glob("*.log"):
        old_log.unlink()
    with LocalStack(port=0, aws_port=0, allow_private_urls=True, log_dir=log_dir) as stack:
        yield stack


@pytest.fixture(scope="session")
def aws_env(local_stack: LocalStack) -> Iterator[dict[str, str]]:
    """Sets os.environ to what a function of template.yaml gets (emulator endpoint, test
    credentials, region, the Globals' table/key variables resolved to the emulator's names,
    the dev issuer as trusted issuer, PUSHGATE_ALLOW_PRIVATE_URLS=1) for in-process tests;
    restores the previous values afterwards."""
    env = local_stack.environment()
    env["PUSHGATE_ALLOW_PRIVATE_URLS"] = "1"
    with patched_environ(env):
        yield env


@pytest.fixture
def user_agent() -> UserAgent:
    """A fresh browser side of a push subscription (key pair and auth secret)."""
    return new_user_agent()
