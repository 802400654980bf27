"""ntfy's admin HTTP API as its server implements it (binwiederhier/ntfy `server/server.go`
routes, `server/server_admin.go`): accounts and their access to topics, with a Bearer admin
token. Success is `{"success": true}`; errors are `{code, http, error}`."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from pushgate import outbound

# ntfy's error codes pushgate acts on (server/errors.go).
USER_NOT_FOUND = 40031
# Each admin call, connect to last byte (a request makes at most six: see template.yaml).
DEADLINE_SECONDS = 4.0
_TIMEOUT = httpx.Timeout(DEADLINE_SECONDS)
_MAX_ANSWER_BYTES = 16 * 1024


class NtfyAdminError(Exception):
    """The server answered, and not with success."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"ntfy answered {status} ({code}): {message}")
        self.status, self.code = status, code


class NtfyUnreachableError(Exception):
    """No answer from the server (connection refused, deadline passed, ...)."""


@dataclass(frozen=True, slots=True)
class NtfyAdmin:
    server_url: str
    token: str
    transport: httpx.AsyncBaseTransport | None = None

    def put_user(self, username: str, password: str) -> None:
        """Create the account, or set its password when it exists (PUT upserts)."""
        self._call("PUT", "/v1/users", {"username": username, "password": password})

    def grant(self, username: str, topic: str, permission: str) -> None:
        """Set the account's access to `topic` (replacing what it had for that pattern)."""
        body = {"username": username, "topic": topic, "permission": permission}
        self._call("PUT", "/v1/users/access", body)

    def revoke(self, username: str, topic: str) -> None:
        """Remove the account's entry for `topic`. (Always with a topic: ntfy takes an empty
        one as "every entry of the account".)"""
        if not topic:
            raise ValueError("a topic is required")
        self._call("DELETE", "/v1/users/access", {"username": username, "topic": topic})

    def delete_user(self, username: str) -> bool:
        """Delete the account, and with it its grants and tokens. False when there was no such
        account (deleting again is not an error)."""
        try:
            self._call("DELETE", "/v1/users", {"username": username})
        except NtfyAdminError as exc:
            if exc.code == USER_NOT_FOUND:
                return False
            raise
        return True

    def _call(self, method: str, path: str, body: dict[str, str]) -> None:
        try:
            reply = outbound.request_blocking(
                method,
                self.server_url + path,
                headers={
                    "Authorization": f"Bearer {self.token}",  # ntfy reads only "Bearer"
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
                content=json.dumps(body).encode(),
                deadline=DEADLINE_SECONDS,
                max_bytes=_MAX_ANSWER_BYTES,
                timeout=_TIMEOUT,
                transport=self.transport,
            )
        except httpx.HTTPError as exc:  # the total deadline included
            raise NtfyUnreachableError(f"{method} {path}: {type(exc).__name__}") from None
        if 200 <= reply.status_code < 300:
            return
        code, message = None, "no error document"
        try:
            document = json.loads(reply.body)
            code, message = int(document.get("code")), str(document.get("error", ""))[:200]
        except (ValueError, TypeError, AttributeError):
            pass
        raise NtfyAdminError(reply.status_code, code, message)
