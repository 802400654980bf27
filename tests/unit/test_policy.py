"""The authorisation policy: whom an app trusts, with its defaults, and who may do what."""

from __future__ import annotations

import json

import pytest

from pushgate import settings
from pushgate.auth import Principal
from pushgate.errors import ForbiddenError
from pushgate.policy import AppTrust, may_manage_device, require_app_access, trust_of
from pushgate.storage.apps import App

FIRST = "https://first.example"
SECOND = "https://second.example"


@pytest.fixture(autouse=True)
def issuers(monkeypatch):
    entries = [{"issuer": i, "jwks_url": f"{i}/jwks.json"} for i in (FIRST, SECOND)]
    monkeypatch.setenv("PUSHGATE_TRUSTED_ISSUERS", json.dumps(entries))
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def _service(app_id: str, issuer: str = FIRST, scopes: str = "push:send") -> Principal:
    return Principal("service", app_id, issuer, frozenset(scopes.split()))


def _trust(**fields) -> AppTrust:
    defaults = {
        "app_id": "demo",
        "issuer": FIRST,
        "service_issuers": frozenset(),
        "user_issuer": FIRST,
        "enabled": True,
        "suspended": False,
    }
    return AppTrust(**(defaults | fields))


def test_trust_of_an_app_older_than_issuers_is_the_first_trusted_issuers():
    trust = trust_of(App("legacy", enabled=True))
    assert (trust.issuer, trust.user_issuer, trust.service_issuers) == (FIRST, FIRST, frozenset())


def test_trust_of_an_app_names_its_users_issuer_apart_from_its_own():
    record = App("demo", issuer=SECOND, user_issuer=FIRST, service_issuers=(FIRST,))
    trust = trust_of(record)
    assert (trust.issuer, trust.user_issuer, trust.service_issuers) == (
        SECOND,
        FIRST,
        frozenset({FIRST}),
    )


def test_trust_of_a_gateway_instances_app_has_the_instance_as_its_users_issuer():
    trust = trust_of(App("takos:social", owner_instance="social.example"))
    assert (trust.issuer, trust.user_issuer) == (None, "takos-instance:social.example")


def test_require_app_access_refuses_a_service_token_of_an_issuer_the_app_does_not_trust():
    with pytest.raises(ForbiddenError) as refused:
        require_app_access(_service("demo", SECOND), "demo", "push:send", _trust())
    assert (refused.value.status, refused.value.code) == (403, "issuer_not_trusted")


def test_require_app_access_accepts_the_apps_issuer_and_its_listed_service_issuers():
    listed = _trust(service_issuers=frozenset({SECOND}))
    for issuer in (FIRST, SECOND):
        assert require_app_access(_service("demo", issuer), "demo", "push:send", listed) == listed


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (_service("other"), "forbidden"),
        (_service("demo", scopes="push:config"), "insufficient_scope"),
        (Principal("user", "demo", FIRST, frozenset(), ("demo",)), "forbidden"),
    ],
)
def test_require_app_access_refuses_other_apps_scopes_and_users(principal, code):
    with pytest.raises(ForbiddenError) as refused:
        require_app_access(principal, "demo", "push:send", _trust())
    assert refused.value.code == code


def test_a_service_token_named_after_a_gateway_instances_app_manages_none_of_its_devices():
    principal = _service("takos:social")
    assert not may_manage_device(
        principal,
        app_id="takos:social",
        user_id="alice",
        owner_issuer="takos-instance:social.example",
    )


def test_a_user_manages_only_devices_registered_with_their_own_issuer():
    alice = Principal("user", "alice", FIRST, frozenset(), ("demo",))
    device = {"app_id": "demo", "user_id": "alice"}
    assert may_manage_device(alice, **device, owner_issuer=FIRST)
    assert not may_manage_device(alice, **device, owner_issuer=SECOND)
    assert not may_manage_device(alice, app_id="other", user_id="alice", owner_issuer=FIRST)
