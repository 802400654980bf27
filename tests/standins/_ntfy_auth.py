"""Who is asking: ntfy's maybeAuthenticate (server/server.go), which runs before routing."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from tests.standins._ntfy_errors import INTERNAL_ERROR, UNAUTHORIZED, refusal
from tests.standins._ntfy_params import query_param
from tests.standins._server import Request
from tests.standins.ntfy_users import NtfyUser, NtfyUsers, UnauthenticatedError

_STANDARD = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_RAW_URL = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user (None: anonymous) and the token it used, if any."""

    user: NtfyUser | None
    token: str | None

    @property
    def username(self) -> str | None:
        return self.user.username if self.user is not None else None


ANONYMOUS = Caller(None, None)


def authenticate(users: NtfyUsers, request: Request) -> Caller:
    """The caller, or the Refusal ntfy answers (401; 500 for an undecodable ?auth=).

    - `?authorization=` or `?auth=` (base64url without padding of a whole header value)
      replaces the Authorization header (readAuthHeader).
    - A value not starting "basic " or "bearer " (any case), or none, is anonymous: no error.
    - "Bearer <token>" must start with exactly "Bearer"; "bearer x" goes to Basic and fails.
    - Basic with an empty username treats the password as a token.
    """
    value = (request.header("authorization") or "").strip()
    param = query_param(request, "authorization", "auth")
    if param:
        try:
            value = _decode_raw_url(param).decode("utf-8", errors="replace").strip()
        except ValueError:
            raise refusal(INTERNAL_ERROR, "?auth= is not base64url without padding") from None
    if not value.lower().startswith(("basic ", "bearer ")):
        return ANONYMOUS
    try:
        if value.startswith("Bearer"):
            token = value.removeprefix("Bearer").strip()
            return Caller(users.authenticate_token(token), token)
        username, password = _basic_credentials(value)
        if username == "":
            return Caller(users.authenticate_token(password), password)
        return Caller(users.authenticate(username, password), None)
    except (UnauthenticatedError, ValueError) as error:
        raise refusal(UNAUTHORIZED, f"authentication failed: {error}") from None


def _basic_credentials(value: str) -> tuple[str, str]:
    """Go's Request.BasicAuth: "Basic " in any case, standard base64, "user:password"."""
    scheme, encoded = value[:6], value[6:]
    if scheme.lower() != "basic ":
        raise ValueError("not Basic credentials")
    encoded = encoded.replace("\r", "").replace("\n", "")  # Go's decoder skips them
    if not _STANDARD.match(encoded) or len(encoded) % 4:
        raise ValueError("Basic credentials are not padded base64")
    try:
        decoded = base64.b64decode(encoded).decode("utf-8", errors="replace")
    except binascii.Error:
        raise ValueError("Basic credentials are not base64") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise ValueError("Basic credentials have no ':'")
    return username, password


def _decode_raw_url(text: str) -> bytes:
    """Go's base64.RawURLEncoding.DecodeString: no padding allowed."""
    text = text.replace("\r", "").replace("\n", "")
    if not _RAW_URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
