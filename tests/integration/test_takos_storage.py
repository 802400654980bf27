"""Gateway clients against the emulator's tables: well-known caching and re-fetch limits,
single-use nonces, and tenant apps owned by the first instance that claims them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from clients.gateway_client import GatewayClient
from pushgate import clock
from pushgate.errors import ForbiddenError
from pushgate.storage import instances as enrolments
from pushgate.storage.apps import AppRecord
from pushgate.storage.instances import Enrolment, Instance
from pushgate.storage.nonces import nonce_key, use_nonce
from pushgate.takos import instances, wellknown
from pushgate.takos.wellknown import WellKnownCache, WellKnownUnavailableError, parse_document

REFETCH_SECONDS = 10


class FakeNetwork:
    """Stands in for `fetch_document`: serves the current document, counts fetches."""

    def __init__(self) -> None:
        self.document: dict | None = None
        self.fetches = 0

    def __call__(self, domain, *, settings):
        self.fetches += 1
        if self.document is None:
            raise WellKnownUnavailableError("down")
        return parse_document(json.dumps(self.document).encode(), fetched_at=clock.epoch())


@pytest.fixture
def now(pushgate_env) -> Iterator[list[float]]:
    """The clock, as a one-element list tests can move forward."""
    current = [clock.epoch()]
    previous = clock.set_source(lambda: current[0])
    yield current
    clock.set_source(previous)


@pytest.fixture
def network(monkeypatch, now) -> FakeNetwork:
    monkeypatch.setenv("PUSHGATE_WELLKNOWN_REFETCH_SECONDS", str(REFETCH_SECONDS))
    fake = FakeNetwork()
    monkeypatch.setattr(wellknown, "fetch_document", fake)
    return fake


def _domain() -> str:
    return f"wk-{uuid.uuid4().hex[:10]}.example"


def _document(instance: str = "social.example") -> dict:
    return GatewayClient.generate(instance).wellknown()


def test_wellknown_cache_fetches_once_then_serves_the_container_copy(network):
    network.document = _document()
    cache, domain = WellKnownCache(), _domain()
    first = cache.current(domain)
    assert cache.current(domain) == first
    assert network.fetches == 1


def test_wellknown_cache_shares_a_fetch_with_other_containers_through_dynamodb(network):
    network.document = _document()
    domain = _domain()
    fetched = WellKnownCache().current(domain)
    assert WellKnownCache().current(domain) == fetched
    assert network.fetches == 1


def test_wellknown_cache_fetches_again_after_the_ttl(network, now, monkeypatch):
    monkeypatch.setenv("PUSHGATE_WELLKNOWN_CACHE_SECONDS", "60")
    network.document = _document()
    cache, domain = WellKnownCache(), _domain()
    cache.current(domain)
    now[0] += 61
    cache.current(domain)
    assert network.fetches == 2


def test_wellknown_refresh_is_refused_within_the_refetch_interval(network, now):
    network.document = _document()
    cache, domain = WellKnownCache(), _domain()
    stale = cache.current(domain)
    now[0] += REFETCH_SECONDS - 1
    assert cache.refreshed(domain, stale) is None
    assert network.fetches == 1


def test_wellknown_refresh_fetches_a_rotated_key_after_the_interval(network, now):
    network.document = _document()
    cache, domain = WellKnownCache(), _domain()
    stale = cache.current(domain)
    network.document = _document()  # the instance rotated its keys
    now[0] += REFETCH_SECONDS
    fresh = cache.refreshed(domain, stale)
    assert fresh is not None
    assert fresh.registration_key != stale.registration_key
    assert cache.current(domain) == fresh
    assert network.fetches == 2


def test_wellknown_refresh_takes_another_containers_newer_fetch_without_fetching(network, now):
    network.document = _document()
    domain = _domain()
    here, there = WellKnownCache(), WellKnownCache()
    stale = here.current(domain)
    network.document = _document()
    now[0] += REFETCH_SECONDS
    newer = there.refreshed(domain, there.current(domain))
    assert newer is not None
    assert here.refreshed(domain, stale) == newer
    assert network.fetches == 2


def test_wellknown_failed_fetch_is_remembered_for_the_refetch_interval(network, now):
    cache, domain = WellKnownCache(), _domain()
    for _ in range(3):
        with pytest.raises(WellKnownUnavailableError):
            cache.current(domain)
    assert network.fetches == 1
    network.document = _document()
    now[0] += REFETCH_SECONDS
    cache.current(domain)
    assert network.fetches == 2


def test_nonce_is_accepted_once(pushgate_env):
    key = nonce_key("social.example", uuid.uuid4().hex)
    assert use_nonce(key, expires_at=int(clock.epoch()) + 600)
    assert not use_nonce(key, expires_at=int(clock.epoch()) + 600)


def _enrol(name: str, tenant: str | None = None) -> Instance:
    enrolment = Enrolment(
        domain=name, tenant=tenant, enabled=True, daily_quota=None, push_secret_sealed=None
    )
    return enrolments.put(name, enrolment, now=clock.rfc3339())


def test_bind_tenant_creates_an_enabled_app_with_a_vapid_key(pushgate_env):
    record = _enrol(f"i{uuid.uuid4().hex[:8]}.example")
    app_id = instances.bind_tenant(record, None)
    app = AppRecord.get(app_id)
    assert app_id == f"takos:{record.instance}"
    assert app.enabled
    assert app.vapid_public_key
    assert app.owner_instance == record.instance


def test_bind_tenant_refuses_a_tenant_another_enrolment_names(pushgate_env):
    tenant = f"t{uuid.uuid4().hex[:8]}"
    owner = _enrol(f"a{uuid.uuid4().hex[:8]}.example", tenant)
    intruder = _enrol(f"b{uuid.uuid4().hex[:8]}.example", tenant)
    instances.bind_tenant(owner, None)
    with pytest.raises(ForbiddenError) as refused:
        instances.bind_tenant(intruder, None)
    assert refused.value.code == "tenant_taken"
    assert AppRecord.get(f"takos:{tenant}").owner_instance == owner.instance


def test_bind_tenant_takes_a_document_tenant_under_the_instance_domain(pushgate_env):
    name = f"i{uuid.uuid4().hex[:8]}.example"
    record = _enrol(name)
    assert instances.bind_tenant(record, f"eu.{name}") == f"takos:eu.{name}"
    assert AppRecord.get(f"takos:eu.{name}").user_issuer == f"takos-instance:{name}"


@pytest.mark.parametrize(
    "document_tenant",
    ["social.example", "example", "xsocial.example", "attacker.example", "takos:other"],
)
def test_bind_tenant_refuses_a_document_tenant_outside_the_instance_domain(
    pushgate_env, document_tenant
):
    record = _enrol(f"i{uuid.uuid4().hex[:8]}.attacker.example")
    with pytest.raises(ForbiddenError) as refused:
        instances.bind_tenant(record, document_tenant)
    assert refused.value.code == "tenant_not_allowed"
    with pytest.raises(AppRecord.DoesNotExist):
        AppRecord.get(f"takos:{document_tenant}")


def test_bind_tenant_enrolled_tenant_takes_over_a_claim_by_name_and_unbinds_the_claimer(
    pushgate_env,
):
    squatter = _enrol(f"s{uuid.uuid4().hex[:8]}.example")
    taken = instances.bind_tenant(squatter, None)
    rightful = _enrol(f"r{uuid.uuid4().hex[:8]}.example", squatter.instance)
    assert instances.bind_tenant(rightful, None) == taken
    app = AppRecord.get(taken)
    assert (app.owner_instance, app.owner_claim) == (rightful.instance, "admin")
    assert app.user_issuer == f"takos-instance:{rightful.instance}"
    with pytest.raises(ForbiddenError) as refused:
        instances.bind_tenant(enrolments.get(squatter.instance), None)
    assert refused.value.code == "tenant_taken"
