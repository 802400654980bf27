"""The development issuer's sign-in for browsers: OAuth 2.0 authorization code with PKCE
(RFC 6749 §4.1, RFC 7636 S256 only), enough OpenID Connect discovery for the console to find
it, and nothing more. It has one public client, the console, whose redirect URIs must lie
under the API origin's `/console/`.

`GET /_local/authorize` shows a form (subject, scope, audience) in place of a login page;
submitting it redirects back with a single-use code that lives 60 s and is bound to the
client, the redirect URI and the PKCE challenge; `POST /_local/oauth/token` exchanges it for
an access token minted by the development issuer, as `/_local/token` would mint it."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local.apigw import HttpRequest, HttpResponse
from local.issuer import DevIssuer

__all__ = ["CODE_TTL", "DEFAULT_CLIENT_ID", "SCOPES", "AuthorizationServer"]

DEFAULT_CLIENT_ID = "pushgate-console"
CODE_TTL = 60
SCOPES = ("openid", "push:admin", "push:config", "push:send")
MAX_FORM_BYTES = 8192
# RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url of a SHA-256, unpadded
_NO_STORE = [("cache-control", "no-store"), ("pragma", "no-cache")]
# The form page: no script, nothing from elsewhere, never framed.
_PAGE_HEADERS = [
    ("content-type", "text/html; charset=utf-8"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    *_NO_STORE,
]


class _OAuthError(Exception):
    """An error the client learns by redirect (§4.1.2.1) or by a token error body (§5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class _PageError(Exception):
    """An authorization request that must not redirect: unknown client or redirect URI."""


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    subject: str
    scope: str
    audience: tuple[str, ...]
    expires: float


def s256(verifier: str) -> str:
    """The S256 code challenge of a code verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class AuthorizationServer:
    """Authorization and token endpoints of `issuer` for the console client."""

    def __init__(self, issuer: DevIssuer, *, client_id: str = DEFAULT_CLIENT_ID) -> None:
        self.issuer = issuer
        self.client_id = client_id
        origin = urlsplit(issuer.issuer_url)
        self.redirect_prefix = f"{origin.scheme}://{origin.netloc}/console/"
        self.authorization_endpoint = f"{issuer.issuer_url}/authorize"
        self.token_endpoint = f"{issuer.issuer_url}/oauth/token"
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    @property
    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider metadata (discovery) the console reads."""
        return {
            "issuer": self.issuer.issuer_url,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.issuer.jwks_url,
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": list(SCOPES),
        }

    # -- /authorize ------------------------------------------------------------------------

    def authorize(self, request: HttpRequest) -> HttpResponse:
        """GET shows the sign-in form for a valid request; POST (the form) issues a code."""
        if request.method.upper() == "POST":
            if len(request.body) > MAX_FORM_BYTES:
                return _page(413, "Sign-in failed", "The form is too large.")
            fields = _form(request.body)
        else:
            fields = _form(request.raw_query.encode())
        try:
            redirect_uri = self._check_client(fields)
        except _PageError as exc:
            return _page(400, "Sign-in failed", str(exc))
        state = fields.get("state")
        try:
            self._check_request(fields)
            if request.method.upper() != "POST":
                return self._form_page(fields)
            code = self._issue(fields, redirect_uri)
        except _OAuthError as exc:
            error = {"error": exc.error, "error_description": exc.description}
            return _redirect(redirect_uri, error | ({"state": state} if state else {}))
        return _redirect(redirect_uri, {"code": code} | ({"state": state} if state else {}))

    def _check_client(self, fields: Mapping[str, str]) -> str:
        if fields.get("client_id") != self.client_id:
            raise _PageError(f"Unknown client. This issuer knows one client: {self.client_id}.")
        redirect_uri = fields.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if (
            not redirect_uri.startswith(self.redirect_prefix)
            or parts.fragment
            or ".." in parts.path
        ):
            raise _PageError(f"The redirect URI must lie under {self.redirect_prefix}.")
        return redirect_uri

    @staticmethod
    def _check_request(fields: Mapping[str, str]) -> None:
        if fields.get("response_type") != "code":
            raise _OAuthError("unsupported_response_type", "only response_type=code")
        if fields.get("code_challenge_method") != "S256":
            raise _OAuthError("invalid_request", "PKCE is required: code_challenge_method=S256")
        if not _CHALLENGE.match(fields.get("code_challenge", "")):
            raise _OAuthError("invalid_request", "code_challenge must be an S256 challenge")

    def _issue(self, fields: Mapping[str, str], redirect_uri: str) -> str:
        subject = fields.get("subject", "").strip()
        if not subject or len(subject) > 256:
            raise _OAuthError("access_denied", "a subject (1..256 characters) is required")
        grant = _Grant(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            challenge=fields["code_challenge"],
            subject=subject,
            scope=" ".join(fields.get("scope", "").split()),
            audience=tuple(fields.get("audience", "").split()),
            expires=time.monotonic() + CODE_TTL,
        )
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for stale in [c for c, g in self._grants.items() if g.expires <= now]:
                del self._grants[stale]
            self._grants[code] = grant
        return code

    def _form_page(self, fields: Mapping[str, str]) -> HttpResponse:
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(fields[name])}">'
            for name in (
                "response_type",
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method",
            )
            if name in fields
        )
        scope = html.escape(fields.get("scope", "openid"))
        body = f"""<h1>Sign in to pushgate (development issuer)</h1>
<p>This local issuer signs in anyone: choose who you are and what you may do.
<code>push:admin</code> makes an operator; an app's id as subject with
<code>push:config</code> makes that app's admin; a user needs the app ids as audience.</p>
<form method="post" action="{html.escape(self.authorization_endpoint)}">
{hidden}
<p><label for="subject">Subject</label><br>
<input id="subject" name="subject" required maxlength="256" autocomplete="username" autofocus></p>
<p><label for="scope">Scopes (space-separated)</label><br>
<input id="scope" name="scope" value="{scope}"></p>
<p><label for="audience">Audience (app ids, space-separated; for users)</label><br>
<input id="audience" name="audience"></p>
<p><button type="submit">Sign in</button></p>
</form>"""
        return _page(200, "Sign in", body, raw=True)

    # -- /oauth/token ----------------------------------------------------------------------

    def token(self, request: HttpRequest) -> HttpResponse:
        """The code exchange (RFC 6749 §4.1.3); errors are §5.2 bodies."""
        try:
            content_type = _header(request, "content-type").split(";")[0].strip().lower()
            if content_type != "application/x-www-form-urlencoded":
                raise _OAuthError("invalid_request", "send application/x-www-form-urlencoded")
            if len(request.body) > MAX_FORM_BYTES:
                raise _OAuthError("invalid_request", "the request is too large")
            return self._exchange(_form(request.body))
        except _OAuthError as exc:
            body = {"error": exc.error, "error_description": exc.description}
            return _json(exc.status, body)

    def _exchange(self, fields: Mapping[str, str]) -> HttpResponse:
        if fields.get("grant_type") != "authorization_code":
            raise _OAuthError("unsupported_grant_type", "only grant_type=authorization_code")
        if fields.get("client_id") != self.client_id:
            raise _OAuthError("invalid_client", "unknown client_id", status=401)
        code, verifier = fields.get("code", ""), fields.get("code_verifier", "")
        if not code or not _VERIFIER.match(verifier):
            raise _OAuthError("invalid_request", "code and a code_verifier (RFC 7636) are needed")
        with self._lock:
            grant = self._grants.pop(code, None)  # single use, whatever happens next
        if grant is None or grant.expires <= time.monotonic():
            raise _OAuthError("invalid_grant", "the code is unknown, used or expired")
        if grant.client_id != fields["client_id"] or grant.redirect_uri != fields.get(
            "redirect_uri"
        ):
            raise _OAuthError("invalid_grant", "the code was issued to another redirect_uri")
        if not secrets.compare_digest(s256(verifier), grant.challenge):
            raise _OAuthError("invalid_grant", "the code_verifier does not match the challenge")
        ttl = 3600
        token = self.issuer.mint(
            grant.subject,
            scope=grant.scope or None,
            aud=list(grant.audience) or None,
            ttl=ttl,
        )
        return _json(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "scope": grant.scope,
            },
        )


def _form(body: bytes) -> dict[str, str]:
    """A form's fields; a field given twice is refused by being dropped (RFC 6749 §3.1)."""
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items() if len(values) == 1}


def _header(request: HttpRequest, name: str) -> str:
    return next((value for key, value in request.headers if key.lower() == name), "")


def _json(status: int, payload: Mapping[str, Any]) -> HttpResponse:
    return HttpResponse(
        status, [("content-type", "application/json"), *_NO_STORE], json.dumps(payload).encode()
    )


def _redirect(uri: str, params: Mapping[str, str]) -> HttpResponse:
    separator = "&" if "?" in uri else "?"
    return HttpResponse(303, [("location", uri + separator + urlencode(params)), *_NO_STORE])


def _page(status: int, title: str, content: str, *, raw: bool = False) -> HttpResponse:
    main = content if raw else f"<h1>{html.escape(title)}</h1><p>{html.escape(content)}</p>"
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · pushgate</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:2rem auto;
padding:0 1rem;color:#111;background:#fff}}
input{{font:inherit;width:100%;padding:.4rem;border:1px solid #555;border-radius:4px}}
button{{font:inherit;padding:.5rem 1.2rem;background:#0b57d0;color:#fff;border:0;border-radius:4px}}
:focus-visible{{outline:3px solid #e8710a;outline-offset:2px}}</style></head>
<body><main>{main}</main></body></html>"""
    return HttpResponse(status, list(_PAGE_HEADERS), document.encode())
