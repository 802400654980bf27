"""Trusted issuers' signing keys: fetched on first use, cached in the container, refreshed
when a token names a `kid` we have not seen (at most once per cooldown, so garbage `kid`s
cannot turn every request into a fetch). A failed fetch is remembered for the same cooldown:
requests meanwhile fail fast with the same error instead of each waiting on the issuer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from pushgate import clock, outbound
from pushgate.observability import logger
from pushgate.settings import TrustedIssuer

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
_MAX_JWKS_BYTES = 64 * 1024
_REFRESH_COOLDOWN_SECONDS = 10.0
# The whole fetch, connect to last byte; httpx's own timeouts are per read.
_FETCH_DEADLINE_SECONDS = 3.0
_FETCH_TIMEOUT = httpx.Timeout(_FETCH_DEADLINE_SECONDS)


class JwksError(Exception):
    """The issuer's key set could not be fetched or understood."""


@dataclass
class _IssuerKeys:
    keys: dict[str | None, PyJWK] = field(default_factory=dict)
    fetched_at: float = float("-inf")  # the last fetch, failed or not
    failure: str | None = None  # why the last fetch failed


def _pinned(jwk: dict[str, object]) -> PyJWK | None:
    """A usable verification key, its algorithm pinned; None for keys we refuse to use."""
    if jwk.get("use", "sig") != "sig" or jwk.get("kty") == "oct":
        return None
    declared = jwk.get("alg")
    if declared is not None and declared not in ALLOWED_ALGORITHMS:
        return None
    try:
        key = PyJWK(jwk)
    except PyJWKError:
        return None
    return key if key.algorithm_name in ALLOWED_ALGORITHMS else None


class JwksCache:
    """Per-container cache of every trusted issuer's keys."""

    def __init__(
        self,
        fetch: Callable[[str], bytes] | None = None,
        *,
        allow_http: bool = False,
    ) -> None:
        self._fetch = fetch or self._http_fetch
        self._allow_http = allow_http
        self._issuers: dict[str, _IssuerKeys] = {}
        self._lock = threading.Lock()

    def key(self, issuer: TrustedIssuer, kid: str | None) -> PyJWK | None:
        """The issuer's key for `kid` (or its only key when the token names none)."""
        with self._lock:
            entry = self._issuers.setdefault(issuer.issuer, _IssuerKeys())
            found = self._lookup(entry, kid)
            if found is not None:
                return found
            if clock.epoch() - entry.fetched_at < _REFRESH_COOLDOWN_SECONDS:
                if entry.failure is not None:
                    raise JwksError(entry.failure)
                return None
            entry.fetched_at = clock.epoch()
            try:
                entry.keys = self._load(issuer)
            except JwksError as exc:
                entry.failure = str(exc)
                raise
            entry.failure = None
            return self._lookup(entry, kid)

    @staticmethod
    def _lookup(entry: _IssuerKeys, kid: str | None) -> PyJWK | None:
        if kid is None:
            return next(iter(entry.keys.values())) if len(entry.keys) == 1 else None
        return entry.keys.get(kid)

    def _load(self, issuer: TrustedIssuer) -> dict[str | None, PyJWK]:
        url = str(issuer.jwks_url)
        if not url.startswith("https://") and not self._allow_http:
            raise JwksError("JWKS URLs must be https")
        try:
            document = json.loads(self._fetch(url))
            raw_keys = document["keys"]
        except (JwksError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            logger.warning("jwks fetch failed", extra={"issuer": issuer.issuer, "error": str(exc)})
            raise JwksError("the issuer's keys are unavailable") from exc
        keys: dict[str | None, PyJWK] = {}
        for raw in raw_keys if isinstance(raw_keys, list) else ():
            if isinstance(raw, dict) and (key := _pinned(raw)) is not None:
                keys[raw.get("kid") if isinstance(raw.get("kid"), str) else None] = key
        return keys

    @staticmethod
    def _http_fetch(url: str) -> bytes:
        reply = outbound.fetch_blocking(
            url,
            headers={"accept": "application/json"},
            deadline=_FETCH_DEADLINE_SECONDS,
            max_bytes=_MAX_JWKS_BYTES + 1,  # one byte more tells an oversized document
            timeout=_FETCH_TIMEOUT,
        )
        if not 200 <= reply.status_code < 300:
            raise JwksError(f"the JWKS URL answered HTTP {reply.status_code}")
        if len(reply.body) > _MAX_JWKS_BYTES:
            raise JwksError("JWKS document too large")
        return reply.body
