"""The JWKS cache's fetches: bounded by one deadline, and a failure remembered for the
refresh cooldown so requests meanwhile fail fast instead of each fetching again."""

from __future__ import annotations

import json
import time

import pytest

from pushgate import clock
from pushgate.auth import jwks
from pushgate.auth.jwks import JwksCache, JwksError
from pushgate.settings import TrustedIssuer
from tests.standins.tarpit import TarpitServer

ISSUER = TrustedIssuer(issuer="https://issuer.test", jwks_url="https://issuer.test/jwks.json")


class BrokenIssuer:
    """A JWKS endpoint that fails `failures` times, then serves an empty key set."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.fetches = 0

    def fetch(self, url: str) -> bytes:
        self.fetches += 1
        if self.fetches <= self.failures:
            raise JwksError("the JWKS URL answered HTTP 503")
        return json.dumps({"keys": []}).encode()


@pytest.fixture
def now():
    moment = [1_800_000_000.0]
    previous = clock.set_source(lambda: moment[0])
    yield moment
    clock.set_source(previous)


def test_jwks_failed_fetch_is_remembered_for_the_cooldown(now):
    issuer = BrokenIssuer(failures=1)
    cache = JwksCache(issuer.fetch)

    errors = []
    for _ in range(5):
        with pytest.raises(JwksError) as failed:
            cache.key(ISSUER, "k1")
        errors.append(str(failed.value))

    assert issuer.fetches == 1
    assert errors == ["the issuer's keys are unavailable"] * 5


def test_jwks_failed_fetch_is_retried_after_the_cooldown(now):
    issuer = BrokenIssuer(failures=1)
    cache = JwksCache(issuer.fetch)
    with pytest.raises(JwksError):
        cache.key(ISSUER, "k1")

    now[0] += jwks._REFRESH_COOLDOWN_SECONDS
    key = cache.key(ISSUER, "k1")

    assert key is None  # fetched again: the key set is empty now, so the kid is unknown
    assert issuer.fetches == 2


def test_jwks_fetch_gives_up_on_a_trickling_issuer_at_its_deadline(monkeypatch):
    monkeypatch.setattr(jwks, "_FETCH_DEADLINE_SECONDS", 0.5)
    with TarpitServer(interval=0.15, duration=10) as tarpit:
        issuer = TrustedIssuer(issuer="https://issuer.test", jwks_url=f"{tarpit.url}/jwks.json")
        started = time.monotonic()
        with pytest.raises(JwksError, match="unavailable"):
            JwksCache(allow_http=True).key(issuer, "k1")
        elapsed = time.monotonic() - started

    # Not the tarpit's 10 s; the slack is for a loaded CI machine (seen: 0.84 s).
    assert 0.5 <= elapsed < 2.5
