"""An `Idempotency-Key` send whose invocation dies: its record stays in progress only as long
as the invocation could have run, then a retry with the same key runs (the send function
in-process, against the emulator's idempotency table)."""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.notifications import service

REPO = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """What a Lambda timeout does to an invocation: nothing after it runs. Powertools catches
    only Exception, so the idempotency record is left in progress, as after a real kill."""


class Context:
    """A Lambda context whose invocation ends `remaining_ms` from now."""

    function_name = "pushgate-send"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:pushgate-send"

    def __init__(self, remaining_ms: int) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.deadline = time.time() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


@pytest.fixture
def send_handler(pushgate_env) -> Any:
    spec = importlib.util.spec_from_file_location(
        "send_app_under_test", REPO / "functions" / "send" / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _event(token: str, key: str) -> dict[str, Any]:
    event = json.loads((REPO / "events" / "send.json").read_text())
    event["headers"] |= {"authorization": f"Bearer {token}", "idempotency-key": key}
    event["body"] = json.dumps({"user_id": "alice", "title": "once", "body": "b"})
    return event


def test_send_interrupted_near_its_deadline_can_be_retried_once_the_deadline_passed(
    send_handler, local_stack, monkeypatch
):
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    # Created by the stack's issuer, so its service tokens act for the app.
    admin = Principal("admin", "ops", local_stack.issuer_url, frozenset({"push:admin"}))
    update_app_config(admin, app_id, AppConfigPatchRequest(enabled=True))
    token = local_stack.mint_token(app_id, scope="push:send")
    key = uuid.uuid4().hex
    accept = service.accept

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise Killed

    monkeypatch.setattr(service, "accept", killed)
    dying = Context(remaining_ms=3000)
    with pytest.raises(Killed):
        send_handler(_event(token, key), dying)
    monkeypatch.setattr(service, "accept", accept)

    while_it_could_still_run = send_handler(_event(token, key), Context(29_000))
    time.sleep(max(0.0, dying.deadline - time.time()) + 0.3)
    after_its_deadline = send_handler(_event(token, key), Context(29_000))

    assert while_it_could_still_run["statusCode"] == 409, while_it_could_still_run
    assert json.loads(while_it_could_still_run["body"])["error"]["code"] == "request_in_progress"
    assert after_its_deadline["statusCode"] == 202, after_its_deadline
