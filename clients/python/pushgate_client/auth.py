"""Where the bearer token comes from: a fixed string, a callable (sync, or async for the
async client), or OAuth 2.0 client credentials (RFC 6749 §4.4) against the issuer's token
endpoint, cached until shortly before it expires."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol
from urllib.parse import quote_plus

import httpx

from pushgate_client._flow import Call, Flow, Resolve
from pushgate_client.errors import TokenError

__all__ = ["Auth", "CallableToken", "ClientCredentials", "StaticToken", "as_auth"]

# Refresh this long before the token's expiry: a request started with it still arrives in time.
REFRESH_MARGIN = 60.0


class Auth(Protocol):
    def token(self) -> Flow[str]:
        """The flow that yields what getting a token needs and returns the token."""
        ...

    def invalidate(self) -> None:
        """The API refused the last token (401): the next request gets a new one."""
        ...


class StaticToken:
    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> Flow[str]:
        return self._token
        yield  # a flow that needs nothing

    def invalidate(self) -> None:
        pass


class CallableToken:
    """Calls `get_token()` for every request (it may cache: it knows its tokens)."""

    def __init__(self, get_token: Callable[[], str | Awaitable[str]]) -> None:
        self._get_token = get_token

    def token(self) -> Flow[str]:
        token = yield Resolve(self._get_token())
        if not isinstance(token, str) or not token:
            raise TokenError("the token callable returned no token")
        return token

    def invalidate(self) -> None:
        pass


class ClientCredentials:
    """OAuth 2.0 client credentials: POSTs `grant_type=client_credentials` with the client
    authenticated by HTTP Basic (RFC 6749 §2.3.1; `auth_method="client_secret_post"` puts
    the credentials in the form instead), and keeps the token until `REFRESH_MARGIN`
    seconds before its `expires_in` runs out (an answer without one is kept 5 minutes)."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = "push:send",
        audience: str | None = None,
        auth_method: str = "client_secret_basic",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ValueError("auth_method is client_secret_basic or client_secret_post")
        self.token_url, self.client_id, self._secret = token_url, client_id, client_secret
        self.scope, self.audience, self.auth_method = scope, audience, auth_method
        self._clock = clock
        self._cached: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> Flow[str]:
        with self._lock:
            cached = self._cached
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        response = yield Call(self._request())
        token, lifetime = _parse_token(response)
        with self._lock:
            self._cached = (token, self._clock() + max(0.0, lifetime - REFRESH_MARGIN))
        return token

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        headers = {"accept": "application/json"}
        if self.auth_method == "client_secret_post":
            form |= {"client_id": self.client_id, "client_secret": self._secret}
        else:  # RFC 6749 §2.3.1: id and secret are form-encoded, then Basic-encoded
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self._secret)}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return httpx.Request("POST", self.token_url, data=form, headers=headers)


def _parse_token(response: httpx.Response) -> tuple[str, float]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        reason = body.get("error_description") or body.get("error") or response.reason_phrase
        raise TokenError(f"the token endpoint answered {response.status_code}: {reason}")
    expires_in = body.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
    return body["access_token"], lifetime


def as_auth(token: str | Callable[[], str | Awaitable[str]] | Auth) -> Auth:
    """A client's `token` argument as an Auth."""
    if isinstance(token, str):
        return StaticToken(token)
    if hasattr(token, "token") and hasattr(token, "invalidate"):
        return token  # type: ignore[return-value]
    if callable(token):
        return CallableToken(token)
    raise TypeError("token is a str, a callable returning one, or an Auth (ClientCredentials)")
