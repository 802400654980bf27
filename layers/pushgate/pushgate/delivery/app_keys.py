"""What delivery needs of an app, read at most a few seconds ago: whether it takes work, whose
users its jobs name, whether it wants receipts, and its keys, opened."""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass

from pushgate import clock
from pushgate.apps import secrets
from pushgate.crypto import VapidKey
from pushgate.delivery.runtime import default_fcm_account
from pushgate.policy import trust_of
from pushgate.providers import ServiceAccount
from pushgate.settings import get_settings
from pushgate.storage import apps

# How long a container trusts what it read of an app: a disable, a suspension or a new
# webhook takes effect within this.
CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class AppKeys:
    app_id: str
    active: bool  # enabled and not suspended: anything else is sent nothing
    user_issuer: str | None  # whose users the job's user_id names
    wants_receipts: bool  # a webhook is configured and active
    vapid_key: VapidKey | None
    vapid_subject: str | None  # None: neither the app nor the deployment names one
    fcm_account: ServiceAccount | None
    loaded_at: float


_cache: dict[str, AppKeys] = {}
# One load per app at a time: the jobs of a batch ask for their app together, and without
# this each of them would read the app (and unwrap its keys with KMS) on a thread of its own.
_loading: dict[str, threading.Lock] = {}
_loading_guard = threading.Lock()


def cached(app_id: str) -> AppKeys | None:
    """The app's keys if this container read them less than CACHE_SECONDS ago, else None
    (no call: answered on the event loop, without a thread)."""
    keys = _cache.get(app_id)
    if keys is not None and clock.epoch() - keys.loaded_at < CACHE_SECONDS:
        return keys
    return None


def app_keys(app_id: str) -> AppKeys | None:
    """The app's keys (None when there is no such app), from this container's cache when
    they were read less than CACHE_SECONDS ago. Callers on several threads wait for one
    read of the app."""
    keys = cached(app_id)
    if keys is not None:
        return keys
    with _loading_guard:
        lock = _loading.setdefault(app_id, threading.Lock())
    with lock:
        return cached(app_id) or _load(app_id)


_loads: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, asyncio.Future[AppKeys | None]]
] = weakref.WeakKeyDictionary()


async def load(app_id: str) -> AppKeys | None:
    """`app_keys` for the jobs of one event loop: from the cache without a thread, else one
    read on a thread that every job of the app waits for (so they all go on together, in
    the same turn of the loop: `pushgate.delivery.reads` batches what they read next)."""
    keys = cached(app_id)
    if keys is not None:
        return keys
    loading = _loads.setdefault(asyncio.get_running_loop(), {})
    future = loading.get(app_id)
    if future is None:
        future = loading[app_id] = asyncio.ensure_future(asyncio.to_thread(app_keys, app_id))
        future.add_done_callback(lambda _: loading.pop(app_id, None))
    return await asyncio.shield(future)


def _load(app_id: str) -> AppKeys | None:
    record = apps.get(app_id)
    if record is None:
        return None
    vapid = None
    if record.vapid_private_key_sealed:
        vapid = VapidKey.load(secrets.open_vapid_key(app_id, record.vapid_private_key_sealed))
    account = default_fcm_account()
    if record.fcm_service_account_sealed:
        sealed = record.fcm_service_account_sealed
        account = ServiceAccount.parse(secrets.open_fcm_account(app_id, sealed))
    trust = trust_of(record)
    keys = AppKeys(
        app_id=app_id,
        active=trust.enabled and not trust.suspended,
        user_issuer=trust.user_issuer,
        wants_receipts=bool(record.webhook_url) and not record.webhook_disabled_at,
        vapid_key=vapid,
        vapid_subject=record.vapid_subject or get_settings().default_vapid_subject,
        fcm_account=account,
        loaded_at=clock.epoch(),
    )
    _cache[app_id] = keys
    return keys


def clear() -> None:
    """Forget every app (a fresh container; tests)."""
    _cache.clear()
    with _loading_guard:
        _loading.clear()
