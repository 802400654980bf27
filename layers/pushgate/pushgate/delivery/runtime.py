"""The container's delivery machinery: one HTTP/2-capable client and the provider senders.

An `httpx.AsyncClient` belongs to the event loop it first ran on, so the runtime is kept per
loop: Lambda reuses one loop per container (and so one client, with its warm connections);
anything that runs a fresh loop per call simply gets a fresh client.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import certifi
import httpx

from pushgate.providers import (
    CookielessClient,
    FcmAccessTokens,
    FcmSender,
    NtfySender,
    ServiceAccount,
    ShardedTransport,
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
        # As many connections as sends in flight (the semaphore), in small pools: see
        # ShardedTransport for what one large pool costs.
        transport = ShardedTransport(
            settings.delivery_concurrency,
            http2=True,
            verify=_ssl_context(settings.ca_bundle),
        )
        client = CookielessClient(transport=transport, follow_redirects=False)
        tokens = FcmAccessTokens(client, token_url=settings.google_token_url)
        current = Runtime(
            client=client,
            fcm=FcmSender(client, tokens, api_url=settings.fcm_api_url),
            webpush=WebPushSender(client),
            ntfy=NtfySender(client),
            limit=asyncio.Semaphore(settings.delivery_concurrency),
        )
        _runtimes.clear()  # a previous loop is gone for good: let its client go with it
        _runtimes[id(loop)] = current
    return current


def _ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """The public roots (httpx's default), plus the PEM file at `ca_bundle` when one is set."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


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
