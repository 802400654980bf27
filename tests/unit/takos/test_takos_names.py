"""Names in the takos protocol: which instance names open enrolment accepts, which domains
an admin may enrol, and the `takos:` app ids no tenant app may take."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from pushgate.apps.models import AppConfigPatchRequest
from pushgate.apps.service import update_app_config
from pushgate.auth import Principal
from pushgate.devices.models import RegisterDeviceRequest
from pushgate.errors import BadRequestError, ForbiddenError
from pushgate.policy import require_app_access
from pushgate.settings import get_settings
from pushgate.takos.instances import is_dns_name, normalize_domain, tenant_app_id
from pushgate.takos.models import INSTANCE_PATTERN
from pushgate.urls import UnsafeUrlError


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("PUSHGATE_ALLOW_PRIVATE_URLS", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv("PUSHGATE_ALLOW_PRIVATE_URLS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "name", ["social.example", "a.b-c.example:8443", "localhost:4433", "xn--bcher-kva.example"]
)
def test_is_dns_name_accepts_host_names_with_optional_port(name):
    assert is_dns_name(name)
    assert re.match(INSTANCE_PATTERN, name)


@pytest.mark.parametrize(
    "name", ["10.0.0.1", "127.0.0.1:80", "-bad.example", "bad-.example", "a..b", "under_score.x"]
)
def test_is_dns_name_refuses_addresses_and_bad_labels(name):
    assert not is_dns_name(name)


@pytest.mark.parametrize("name", ["Upper.example", "a#b", "a/b", "", "x" * 200, "a:b:c"])
def test_instance_pattern_refuses_names_that_break_keys(name):
    assert not re.match(INSTANCE_PATTERN, name)


def test_tenant_app_id_is_namespaced():
    assert tenant_app_id("social") == "takos:social"


def test_normalize_domain_lower_cases_a_host_name(local):
    assert normalize_domain("Social.Example:8443") == "social.example:8443"


def test_normalize_domain_accepts_an_origin_where_private_urls_are_allowed(local):
    assert normalize_domain("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "domain", ["http://127.0.0.1:8080", "https://social.example", "127.0.0.1", "[::1]"]
)
def test_normalize_domain_refuses_origins_and_private_hosts_under_production_rules(
    production, domain
):
    with pytest.raises(UnsafeUrlError):
        normalize_domain(domain)


@pytest.mark.parametrize("domain", ["social.example/path", "user@social.example", "a b"])
def test_normalize_domain_refuses_paths_and_credentials(local, domain):
    with pytest.raises(UnsafeUrlError):
        normalize_domain(domain)


def test_tenant_apps_cannot_be_created_through_the_config_api():
    admin = Principal("admin", "ops", "issuer", frozenset({"push:admin"}))
    with pytest.raises(BadRequestError) as refused:
        update_app_config(admin, "takos:social", AppConfigPatchRequest(enabled=True))
    assert refused.value.code == "reserved_app_id"


def test_tenant_apps_cannot_take_user_registrations():
    with pytest.raises(ValidationError):
        RegisterDeviceRequest(app_id="takos:social", platform="android", push_token="x" * 40)


def test_tenant_apps_cannot_be_reached_with_a_service_token():
    service = Principal("service", "takos:social", "issuer", frozenset({"push:send"}))
    with pytest.raises(ForbiddenError):
        require_app_access(service, "takos:social", "push:send")
