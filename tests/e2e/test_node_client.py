"""The Node client: its own unit tests (`node --test`), and its README lines
(clients/node/examples/readme.mjs) against the local stack: send, wait for an approval that a
device answers, verify the signed receipt pushgate POSTed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_approvals import wait_for
from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture
from tests.e2e.test_python_client import tenant  # noqa: F401 - the Python client's tenant

NODE_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "node"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("delivery"),
    pytest.mark.skipif(NODE is None, reason="node is not installed"),
]


def node(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NODE, *args],
        check=False,
        cwd=NODE_CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_node_clients_own_tests_pass() -> None:
    run = node("--test", "test/")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout
    assert "# pass 15" in run.stdout


def test_the_readme_lines_send_wait_for_an_approval_and_verify_a_receipt(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    stack, receiver, hook, app_id, webhook_secret, topic = request.getfixturevalue("tenant")
    env = os.environ | {
        "PUSHGATE_URL": stack.api.stack.api_url,
        "PUSHGATE_TOKEN": stack.api.token(app_id, scope="push:send"),
    }
    sending = subprocess.Popen(
        [NODE, "examples/readme.mjs", "send"],
        cwd=NODE_CLIENT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        asked = json.loads(sending.stdout.readline())
        (message,) = wait_for(
            lambda: [m for m in stack.ntfy.messages(topic) if m.actions], "the ask"
        )
        tapped = stack.ntfy.tap(message, "Approve")
        out, err = sending.communicate(timeout=90)
    finally:
        sending.kill()
    answered = json.loads(out.splitlines()[-1])
    calls = wait_for(
        lambda: [c for c in receiver.calls(hook) if c.json()["type"] == "approval"], "receipt"
    )
    received = tmp_path / "receipt.json"
    received.write_text(json.dumps({"body": calls[0].body.decode(), "headers": calls[0].headers}))
    verify = {"RECEIPT_FILE": str(received), "WEBHOOK_SECRET": webhook_secret}
    verified = node("examples/readme.mjs", "verify", env=env | verify)
    forged = node(
        "examples/readme.mjs",
        "verify",
        env=env | verify | {"WEBHOOK_SECRET": "whsec_" + "A" * 43 + "="},
    )

    assert sending.returncode == 0, err
    assert asked["notificationId"].startswith("ntf_")
    assert tapped.status_code == 200
    assert (answered["answer"]["approval_id"], answered["answer"]["status"]) == (
        asked["approvalId"],
        "approved",
    )
    assert answered["status"]["notification_id"] == asked["notificationId"]
    broadcast = answered["broadcast"]
    assert (broadcast["status"], broadcast["finished"], broadcast["reached"]) == (
        "finished",
        True,
        1,
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == calls[0].json()
    assert forged.returncode == 1
    assert "InvalidReceiptError" in forged.stderr
