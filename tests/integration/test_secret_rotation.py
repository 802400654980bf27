"""Webhook secret rotation over time (the clock injected): both secrets sign for 24 h, then
only the new one."""

from __future__ import annotations

import time
import uuid

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from pushgate import clock
from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.secrets import signing_secrets
from pushgate.apps.service import get_app_config, rotate_webhook_secret, update_app_config
from pushgate.auth import Principal
from pushgate.receipts.signing import sign
from pushgate.storage.apps import AppRecord

ADMIN = Principal("admin", "ops", "test", frozenset({"push:admin"}))
BODY = b'{"status":"delivered"}'


@pytest.fixture
def rotated(pushgate_env):
    """An app whose secret was rotated at a known moment: (app_id, old, new, rotated_at)."""
    app_id = f"app-{uuid.uuid4().hex[:12]}"
    update_app_config(ADMIN, app_id, AppConfigPatchRequest(enabled=True))
    old = get_app_config(ADMIN, app_id).webhook_secret
    rotated_at = time.time()
    previous = clock.set_source(lambda: rotated_at)
    try:
        new = rotate_webhook_secret(ADMIN, app_id).webhook_secret
    finally:
        clock.set_source(previous)
    return app_id, old, new, rotated_at


def _verifies(secret: str, headers: dict[str, str]) -> bool:
    # standardwebhooks checks the timestamp against the wall clock: sign "now", shift only
    # which secrets pushgate uses.
    try:
        Webhook(secret).verify(BODY, headers)
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.parametrize("hours_after", [0, 1, 23.9])
def test_rotation_both_secrets_verify_within_24_hours(rotated, hours_after):
    app_id, old, new, rotated_at = rotated
    secrets = signing_secrets(AppRecord.get(app_id), rotated_at + hours_after * 3600)
    headers = sign("msg_x", int(time.time()), BODY, secrets)
    assert secrets == [new, old]
    assert _verifies(old, headers)
    assert _verifies(new, headers)


@pytest.mark.parametrize("hours_after", [24.01, 48])
def test_rotation_only_new_secret_verifies_after_24_hours(rotated, hours_after):
    app_id, old, new, rotated_at = rotated
    secrets = signing_secrets(AppRecord.get(app_id), rotated_at + hours_after * 3600)
    headers = sign("msg_x", int(time.time()), BODY, secrets)
    assert secrets == [new]
    assert not _verifies(old, headers)
    assert _verifies(new, headers)


def test_rotation_response_says_until_when_the_old_secret_signs(rotated, pushgate_env):
    app_id, _, _, _ = rotated
    response = rotate_webhook_secret(ADMIN, app_id)
    assert response.previous_secret_valid_until is not None
    assert response.previous_secret_valid_until > clock.rfc3339()
