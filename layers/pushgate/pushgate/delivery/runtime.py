"""The container's delivery machinery: the provider senders over the shared outbound client.

Like that client (`pushgate.outbound.client`), the runtime is kept per event loop: Lambda
reuses one loop per container (and so one client, with its warm connections); anything that
runs a fresh loop per call simply gets a fresh runtime.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import httpx

from pushgate import outbound
from pushgate.providers import (
    FcmAccessTokens,
    FcmSender,
    NtfySender,
    ServiceAccount,
    WebPushSender,
)
from pushgate.settings import get_settings


@dataclass(frozen=True, slots=True)
class Runtime:
    client: httpx.AsyncClient
    fcm: FcmSender
    webpush: WebPushSender
    ntfy: NtfySender
    limit: asyncio.Semaphore


_runtimes: dict[int, Runtime] = {}


def runtime() -> Runtime:
    """The runtime of the running event loop, built on first use."""
    loop = asyncio.get_running_loop()
    current = _runtimes.get(id(loop))
    if current is None:
        settings = get_settings()
        client = outbound.client()
        deadline = settings.outbound_deadline_seconds
        tokens = FcmAccessTokens(client, token_url=settings.google_token_url, deadline=deadline)
        current = Runtime(
            client=client,
            fcm=FcmSender(client, tokens, api_url=settings.fcm_api_url, deadline=deadline),
            webpush=WebPushSender(client, deadline=deadline),
            ntfy=NtfySender(client, deadline=deadline),
            limit=asyncio.Semaphore(settings.delivery_concurrency),
        )
        _runtimes.clear()  # a previous loop is gone for good: let its client go with it
        _runtimes[id(loop)] = current
    return current


def default_fcm_account() -> ServiceAccount | None:
    """The deployment's FCM service account, or None when none is configured. The Secrets
    Manager value is re-read every 5 minutes (Powertools' cache), so rotation needs no deploy."""
    settings = get_settings()
    if settings.fcm_credentials_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        return _parsed(get_secret(settings.fcm_credentials_secret_arn, max_age=300))
    return _local_fcm_account()


@lru_cache(maxsize=4)
def _parsed(secret: str) -> ServiceAccount:
    return ServiceAccount.parse(secret)


@cache
def _local_fcm_account() -> ServiceAccount | None:
    source = get_settings().fcm_credentials.strip()
    if not source:
        return None
    if not source.startswith("{"):
        source = Path(source).read_text()
    return ServiceAccount.parse(json.loads(source))
