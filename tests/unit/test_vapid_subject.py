"""The VAPID subject check that the deployment's default and every app's `vapid_subject` pass:
a real contact, since Apple's push service refuses placeholders with 403 BadJwtToken."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pushgate.apps.models import AppConfigPatchRequest
from pushgate.settings import Settings
from pushgate.vapid_subject import check_vapid_subject

ACCEPTED = [
    "mailto:ops@pushgate.dev",
    "mailto:push+alerts@mail.shop.co.uk",
    "MAILTO:Ops@Pushgate.Dev",
    "https://pushgate.dev",
    "https://status.shop.com:8443/contact?team=push",
    "https://myhost.tailscale.ts.net",
]
PLACEHOLDERS = [
    "mailto:push-admin@pushgate.invalid",  # the old default
    "mailto:x@localhost",
    "mailto:x@dev.localhost",
    "mailto:ops@printer.local",
    "mailto:ops@ci.test",
    "mailto:ops@example.com",
    "mailto:ops@mail.example.org",
    "mailto:ops@shop.example",
    "https://localhost",
    "https://localhost:8080/contact",
    "https://example.net/push",
    "https://push.invalid",
]
MALFORMED = [
    "",
    "ops@pushgate.dev",  # no scheme
    "mailto:",
    "mailto:pushgate.dev",
    "mailto: ops@pushgate.dev",
    "mailto:<ops@pushgate.dev>",
    "mailto:ops@pushgate",  # no domain ending
    "mailto:ops@127.0.0.1",
    "mailto:a@b@pushgate.dev",
    "mailto:ops@pushgate.dev?subject=hi",
    "http://pushgate.dev",
    "https://",
    "https://10.0.0.1/contact",
    "https://user:pw@pushgate.dev",
    "https://pushgate.dev:port",
    "https://[pushgate.dev",
    "https://pushgate.dev/a b",
    "mailto:ops@pushgate.dev\n",
    "mailto:" + "o" * 240 + "@pushgate.dev",
]


@pytest.mark.parametrize("subject", ACCEPTED)
def test_check_vapid_subject_accepts_real_contacts(subject: str) -> None:
    assert check_vapid_subject(subject) == subject


@pytest.mark.parametrize("subject", PLACEHOLDERS + MALFORMED)
def test_check_vapid_subject_refuses_placeholders_and_malformed_contacts(subject: str) -> None:
    with pytest.raises(ValueError, match=r"^must be a mailto: address") as refused:
        check_vapid_subject(subject)
    assert str(refused.value) == (
        "must be a mailto: address or an https: URL on a real domain (not localhost, .invalid, "
        ".local, .test or example.*): Apple's push service refuses placeholders"
    )


@pytest.mark.parametrize("subject", PLACEHOLDERS[:3] + MALFORMED[4:6])
def test_app_vapid_subject_is_refused_like_the_deployments(subject: str) -> None:
    with pytest.raises(ValidationError):
        AppConfigPatchRequest(vapid_subject=subject)
    with pytest.raises(ValidationError):
        Settings.from_environ({"PUSHGATE_VAPID_SUBJECT": subject})
