"""`Pushgate` (blocking) and `AsyncPushgate`: the same operations (written once, in
`_core`), each a typed method that runs its flow with the client's own httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, Unpack

import httpx

from pushgate_client._core import Approval, ApprovalAction, Core, MessageOptions, Retry
from pushgate_client._flow import Flow, run_async, run_sync
from pushgate_client.auth import Auth, as_auth

__all__ = ["AsyncPushgate", "Pushgate"]

T = TypeVar("T")
Token = str | Callable[[], str | Awaitable[str]] | Auth
PAGE_SIZE = 100


class _Base:
    def __init__(
        self, base_url: str, token: Token, *, app_id: str | None, retry: Retry | None
    ) -> None:
        self._core = Core(base_url, as_auth(token), retry=retry, app_id=app_id)


class Pushgate(_Base):
    """A blocking client. `token`: the bearer token (a str), a callable returning one, or
    `ClientCredentials(...)`; `app_id`: for admin tokens, the app to act as."""

    def __init__(
        self,
        base_url: str,
        token: Token,
        *,
        app_id: str | None = None,
        retry: Retry | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, token, app_id=app_id, retry=retry)
        self._http = http or httpx.Client()
        self.approvals = Approvals(self)
        self.config = Config(self)

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self._http)

    def send(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> str:
        """Send to every device of a user; returns the notification id."""
        return self._run(self._core.send(user_id, title, body, app_id, options))

    def send_bulk(
        self,
        user_ids: Sequence[str],
        title: str,
        body: str,
        *,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> list[str]:
        """One notification to many users; one id per user, in order."""
        return self._run(self._core.send_bulk(user_ids, title, body, app_id, options))

    def send_batch(
        self, notifications: Sequence[Mapping[str, Any]], *, app_id: str | None = None
    ) -> list[str]:
        """Different notifications (each `{user_id, title, body, ...}`) in one request."""
        return self._run(self._core.send_batch(notifications, app_id))

    def broadcast(
        self,
        title: str,
        body: str,
        *,
        platforms: Sequence[str] | None = None,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> str:
        """One notification to every device of the app (or of `platforms`), fanned out by
        pushgate a page at a time; returns the broadcast id."""
        return self._run(self._core.broadcast(title, body, platforms, app_id, options))

    def broadcast_status(self, broadcast_id: str) -> dict[str, Any]:
        """`{status, total, reached, by_outcome, finished, ...}`."""
        return self._run(self._core.broadcast_status(broadcast_id))

    def cancel_broadcast(self, broadcast_id: str) -> dict[str, Any]:
        return self._run(self._core.cancel_broadcast(broadcast_id))

    def notification_status(self, notification_id: str) -> dict[str, Any]:
        return self._run(self._core.notification_status(notification_id))

    def devices(self, app_id: str, *, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
        """Every device of the app, fetched a page at a time as you iterate."""
        cursor: str | None = None
        while True:
            page, cursor = self._run(self._core.devices_page(app_id, cursor, page_size))
            yield from page
            if cursor is None:
                return

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Pushgate:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncPushgate(_Base):
    """The asynchronous client: the same methods, awaited. `token` may be an async callable."""

    def __init__(
        self,
        base_url: str,
        token: Token,
        *,
        app_id: str | None = None,
        retry: Retry | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, token, app_id=app_id, retry=retry)
        self._http = http or httpx.AsyncClient()
        self.approvals = AsyncApprovals(self)
        self.config = AsyncConfig(self)

    async def _run(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._http)

    async def send(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> str:
        return await self._run(self._core.send(user_id, title, body, app_id, options))

    async def send_bulk(
        self,
        user_ids: Sequence[str],
        title: str,
        body: str,
        *,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> list[str]:
        return await self._run(self._core.send_bulk(user_ids, title, body, app_id, options))

    async def send_batch(
        self, notifications: Sequence[Mapping[str, Any]], *, app_id: str | None = None
    ) -> list[str]:
        return await self._run(self._core.send_batch(notifications, app_id))

    async def broadcast(
        self,
        title: str,
        body: str,
        *,
        platforms: Sequence[str] | None = None,
        app_id: str | None = None,
        **options: Unpack[MessageOptions],
    ) -> str:
        return await self._run(self._core.broadcast(title, body, platforms, app_id, options))

    async def broadcast_status(self, broadcast_id: str) -> dict[str, Any]:
        return await self._run(self._core.broadcast_status(broadcast_id))

    async def cancel_broadcast(self, broadcast_id: str) -> dict[str, Any]:
        return await self._run(self._core.cancel_broadcast(broadcast_id))

    async def notification_status(self, notification_id: str) -> dict[str, Any]:
        return await self._run(self._core.notification_status(notification_id))

    async def devices(
        self, app_id: str, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page, cursor = await self._run(self._core.devices_page(app_id, cursor, page_size))
            for device in page:
                yield device
            if cursor is None:
                return

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncPushgate:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class Approvals:
    """`client.approvals`: ask a user, then wait for the answer."""

    def __init__(self, client: Pushgate) -> None:
        self._client = client

    def create(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        timeout_seconds: int | None = None,
        actions: Sequence[ApprovalAction] | None = None,
        data: Mapping[str, str] | None = None,
        url: str | None = None,
        app_id: str | None = None,
    ) -> dict[str, Any]:
        """`{approval_id, status, expires_at, reason}`: pending, or denied at once."""
        return self._client._run(
            self._client._core.create_approval(
                user_id,
                title,
                body,
                app_id=app_id,
                timeout_seconds=timeout_seconds,
                actions=actions,
                data=data,
                url=url,
            )
        )

    def get(self, approval_id: str) -> Approval:
        return self._client._run(self._client._core.approval(approval_id))

    def wait(self, approval_id: str, *, timeout: float = 900) -> Approval:
        """The approval once decided or expired (`approved` says which way), or still
        pending when `timeout` seconds passed first."""
        return self._client._run(self._client._core.wait_for_approval(approval_id, timeout))


class AsyncApprovals:
    def __init__(self, client: AsyncPushgate) -> None:
        self._client = client

    async def create(
        self,
        user_id: str,
        title: str,
        body: str,
        *,
        timeout_seconds: int | None = None,
        actions: Sequence[ApprovalAction] | None = None,
        data: Mapping[str, str] | None = None,
        url: str | None = None,
        app_id: str | None = None,
    ) -> dict[str, Any]:
        return await self._client._run(
            self._client._core.create_approval(
                user_id,
                title,
                body,
                app_id=app_id,
                timeout_seconds=timeout_seconds,
                actions=actions,
                data=data,
                url=url,
            )
        )

    async def get(self, approval_id: str) -> Approval:
        return await self._client._run(self._client._core.approval(approval_id))

    async def wait(self, approval_id: str, *, timeout: float = 900) -> Approval:
        return await self._client._run(self._client._core.wait_for_approval(approval_id, timeout))


class Config:
    """`client.config`: an app's configuration (admin, or the app's push:config token)."""

    def __init__(self, client: Pushgate) -> None:
        self._client = client

    def get(self, app_id: str) -> dict[str, Any]:
        return self._client._run(self._client._core.get_config(app_id))

    def update(self, app_id: str, **changes: Any) -> dict[str, Any]:
        """PATCH the given fields (`enabled`, `webhook_url`, `daily_quota`, ...)."""
        return self._client._run(self._client._core.update_config(app_id, changes))


class AsyncConfig:
    def __init__(self, client: AsyncPushgate) -> None:
        self._client = client

    async def get(self, app_id: str) -> dict[str, Any]:
        return await self._client._run(self._client._core.get_config(app_id))

    async def update(self, app_id: str, **changes: Any) -> dict[str, Any]:
        return await self._client._run(self._client._core.update_config(app_id, changes))
