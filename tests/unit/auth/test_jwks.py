"""The JWKS cache's fetches: bounded by one deadline."""

from __future__ import annotations

import time

import pytest

from pushgate.auth import jwks
from pushgate.auth.jwks import JwksCache, JwksError
from pushgate.settings import TrustedIssuer
from tests.standins.tarpit import TarpitServer


def test_jwks_fetch_gives_up_on_a_trickling_issuer_at_its_deadline(monkeypatch):
    monkeypatch.setattr(jwks, "_FETCH_DEADLINE_SECONDS", 0.5)
    with TarpitServer(interval=0.15, duration=10) as tarpit:
        issuer = TrustedIssuer(issuer="https://issuer.test", jwks_url=f"{tarpit.url}/jwks.json")
        started = time.monotonic()
        with pytest.raises(JwksError, match="unavailable"):
            JwksCache(allow_http=True).key(issuer, "k1")
        elapsed = time.monotonic() - started

    assert 0.5 <= elapsed < 0.8
