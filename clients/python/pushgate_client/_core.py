"""What the clients do, written once as flows (see `_flow`): building each request, the
token, retries with backoff under one total deadline, the Idempotency-Key its retries share,
and reading the answer."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, cast

import httpx

from pushgate_client._flow import Call, Flow, Sleep
from pushgate_client.auth import Auth
from pushgate_client.errors import ApiError, ConflictError, ConnectionFailedError, error_from

# Answers worth another try: pushgate or its dependencies are busy, or (409
# request_in_progress) the first try of this very request is still running.
_RETRIED_STATUSES = {429, 502, 503, 504}
MAX_WAIT_SECONDS = 25  # GET /push/approvals/{id}?wait= (API Gateway's 30 s limit)


class MessageOptions(TypedDict, total=False):
    """The optional fields of a notification (docs/api.md)."""

    data: Mapping[str, str]
    url: str
    icon: str
    image: str
    ttl: int
    urgency: Literal["very-low", "low", "normal", "high"]
    collapse_key: str


class ApprovalAction(TypedDict, total=False):
    id: str
    label: str
    denies: bool


class Approval(TypedDict):
    """An approval's state (`GET /push/approvals/{id}`)."""

    approval_id: str
    status: Literal["pending", "approved", "denied", "expired"]
    approved: bool
    action: str | None
    device_id: str | None
    decided_at: str | None
    expires_at: str
    reason: str | None


class Retry:
    """How hard to try: at most `attempts` tries within `deadline` seconds in all, each try
    given at most `timeout` seconds, waiting `Retry-After` or an exponential backoff with
    full jitter (base `backoff`, capped at `max_backoff`) between them."""

    def __init__(
        self,
        *,
        attempts: int = 5,
        deadline: float = 30.0,
        timeout: float = 10.0,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        if attempts < 1 or deadline <= 0 or timeout <= 0:
            raise ValueError("attempts >= 1, deadline > 0 and timeout > 0")
        self.attempts, self.deadline, self.timeout = attempts, deadline, timeout
        self.backoff, self.max_backoff = backoff, max_backoff

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))  # noqa: S311


class Core:
    """The operations, as flows; `app_id` is the app admins act for (`?app_id=`)."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        retry: Retry | None = None,
        app_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth, self.retry, self.app_id = auth, retry or Retry(), app_id
        self._clock = clock

    # -- the one request loop ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        read_timeout: float | None = None,
    ) -> Flow[Any]:
        """Send with retries; returns the decoded JSON body (None for 204). `idempotent`
        (default: not a POST) says a repeat cannot do the work twice; a POST becomes so
        with an Idempotency-Key, generated here once and sent with every try."""
        headers = {"accept": "application/json", "user-agent": "pushgate-client-python"}
        if idempotent is None:
            idempotent = method != "POST"
        if method == "POST" and idempotent:
            headers["idempotency-key"] = uuid.uuid4().hex
        query = {k: v for k, v in (params or {}).items() if v is not None}
        deadline = self._clock() + max(self.retry.deadline, read_timeout or 0)
        attempt, refreshed = 0, False
        while True:
            try:
                token = yield from self.auth.token()
            except httpx.TransportError as exc:
                raise ConnectionFailedError(f"the token endpoint: {exc!r}") from exc
            remaining = deadline - self._clock()
            timeout = min(read_timeout or self.retry.timeout, max(remaining, 0.001))
            request = httpx.Request(
                method,
                self.base_url + path,
                json=json,
                params=query,
                headers=headers | {"authorization": f"Bearer {token}"},
                extensions={"timeout": httpx.Timeout(timeout).as_dict()},
            )
            try:
                response = yield Call(request)
            except httpx.TransportError as exc:
                failure: Exception = ConnectionFailedError(f"{method} {path}: {exc!r}")
                if not idempotent:
                    raise failure from exc
                wait = self.retry.delay(attempt)
            else:
                if response.status_code < 400:
                    return response.json() if response.content else None
                failure = error_from(response)
                if response.status_code == 401 and not refreshed:
                    refreshed = True  # a token that expired early or was rotated: once more
                    self.auth.invalidate()
                    continue
                if not _worth_retrying(failure, idempotent):
                    raise failure
                wait = failure.retry_after
                if wait is None:
                    wait = self.retry.delay(attempt)
            attempt += 1
            if attempt >= self.retry.attempts or self._clock() + wait >= deadline:
                raise failure
            yield Sleep(wait)

    # -- operations ------------------------------------------------------------------------

    def _as_app(self, app_id: str | None) -> dict[str, str | None]:
        return {"app_id": app_id or self.app_id}

    def send(
        self, user_id: str, title: str, body: str, app_id: str | None, options: MessageOptions
    ) -> Flow[str]:
        document = {"user_id": user_id, "title": title, "body": body, **options}
        answer = yield from self.request(
            "POST", "/push/send", json=document, params=self._as_app(app_id), idempotent=True
        )
        return cast(str, answer["notification_id"])

    def send_bulk(
        self,
        user_ids: Sequence[str],
        title: str,
        body: str,
        app_id: str | None,
        options: MessageOptions,
    ) -> Flow[list[str]]:
        document = {"user_ids": list(user_ids), "title": title, "body": body, **options}
        answer = yield from self.request(
            "POST", "/push/send/bulk", json=document, params=self._as_app(app_id), idempotent=True
        )
        return list(answer["notification_ids"])

    def send_batch(
        self, notifications: Sequence[Mapping[str, Any]], app_id: str | None
    ) -> Flow[list[str]]:
        document = {"notifications": [dict(n) for n in notifications]}
        answer = yield from self.request(
            "POST", "/push/send/batch", json=document, params=self._as_app(app_id), idempotent=True
        )
        return list(answer["notification_ids"])

    def broadcast(
        self,
        title: str,
        body: str,
        platforms: Sequence[str] | None,
        app_id: str | None,
        options: MessageOptions,
    ) -> Flow[str]:
        document: dict[str, Any] = {"title": title, "body": body, **options}
        if platforms is not None:
            document["platforms"] = list(platforms)
        answer = yield from self.request(
            "POST",
            "/push/send/broadcast",
            json=document,
            params=self._as_app(app_id),
            idempotent=True,
        )
        return cast(str, answer["broadcast_id"])

    def broadcast_status(self, broadcast_id: str) -> Flow[dict[str, Any]]:
        return (yield from self.request("GET", f"/push/broadcasts/{broadcast_id}"))

    def cancel_broadcast(self, broadcast_id: str) -> Flow[dict[str, Any]]:
        return (yield from self.request("DELETE", f"/push/broadcasts/{broadcast_id}"))

    def notification_status(self, notification_id: str) -> Flow[dict[str, Any]]:
        return (yield from self.request("GET", f"/push/notifications/{notification_id}"))

    def create_approval(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        app_id: str | None,
        timeout_seconds: int | None,
        actions: Sequence[ApprovalAction] | None,
        data: Mapping[str, str] | None,
        url: str | None,
    ) -> Flow[dict[str, Any]]:
        document: dict[str, Any] = {"user_id": user_id, "title": title, "body": body}
        optional = {"timeout_seconds": timeout_seconds, "actions": actions, "data": data}
        document |= {k: v for k, v in (optional | {"url": url}).items() if v is not None}
        return (
            yield from self.request(
                "POST",
                "/push/approvals",
                json=document,
                params=self._as_app(app_id),
                idempotent=True,
            )
        )

    def approval(self, approval_id: str, wait: float = 0) -> Flow[Approval]:
        params = {"wait": int(wait)} if wait else None
        answer = yield from self.request(
            "GET", f"/push/approvals/{approval_id}", params=params, read_timeout=wait + 10
        )
        return cast(Approval, answer)

    def wait_for_approval(self, approval_id: str, timeout: float) -> Flow[Approval]:
        """Long-polls until the approval is decided or expired, or `timeout` passes (then
        the still-pending state is returned)."""
        until = self._clock() + timeout
        while True:
            wait = min(MAX_WAIT_SECONDS, max(0.0, until - self._clock()))
            state = yield from self.approval(approval_id, wait=wait)
            if state["status"] != "pending" or self._clock() >= until or wait < 1:
                return state

    def devices_page(
        self, app_id: str, cursor: str | None, limit: int
    ) -> Flow[tuple[list[dict[str, Any]], str | None]]:
        answer = yield from self.request(
            "GET", f"/push/devices/{app_id}", params={"limit": limit, "cursor": cursor}
        )
        return list(answer["devices"]), answer.get("next_cursor")

    def get_config(self, app_id: str) -> Flow[dict[str, Any]]:
        return (yield from self.request("GET", f"/push/config/{app_id}"))

    def update_config(self, app_id: str, changes: Mapping[str, Any]) -> Flow[dict[str, Any]]:
        return (yield from self.request("PATCH", f"/push/config/{app_id}", json=dict(changes)))


def _worth_retrying(failure: ApiError, idempotent: bool) -> bool:
    if failure.status == 429:
        return True  # refused before any work: safe to repeat even without a key
    if isinstance(failure, ConflictError):
        return failure.code == "request_in_progress"  # our own first try, still running
    return idempotent and failure.status in _RETRIED_STATUSES
