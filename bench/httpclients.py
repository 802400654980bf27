"""Per-request CPU of the HTTP clients pushgate could send Web Push with, side by side, and
the per-message CPU of pushgate's own Web Push send.

One Web Push stand-in (child process, 50 ms latency, TLS with h2 offered by ALPN as Mozilla,
FCM and Apple do; a cleartext one for HTTP/1.1 without TLS, as bench/fanout.py's) receives
the same MESSAGES prepared requests (encrypted, VAPID-signed) from each candidate, at most
CONCURRENCY at a time (PUSHGATE_DELIVERY_CONCURRENCY's default). A candidate's figure is the
process CPU time (user + system, `time.process_time`) of a round over the requests it sent,
the median over ROUNDS rounds after a warm-up round that opens the connections (a warm
Lambda container). Rounds of all candidates are interleaved, and each is reported as a ratio
to `httpx_today` in the same round, so load from elsewhere skews both sides alike.

Candidates (the figures' names; `_h1` = HTTP/1.1 only, otherwise h2 is offered by ALPN):
- httpx_today: `httpx.AsyncClient` as pushgate sent before issue #19: a cookieless client
  over ShardedTransport (pools of four, address-checking backend over httpcore's anyio
  streams, HTTP/2 enabled), a request built per message, the answer streamed through
  `outbound.exchange`. httpx_h1: the same without HTTP/2.
- httpx_asyncio: the same client over pushgate's asyncio stream backend (what webhooks and
  other httpx users of the shared client get now).
- httpcore_anyio(_h1): httpcore's AsyncConnectionPool called directly (pools of four, the
  address-checking backend over anyio streams), no httpx layer.
- pushgate_post(_h2): `outbound.post` on the shared DeliveryClient: httpcore pools over the
  asyncio backend, HTTP/1.1 as Web Push sends (`_h2`: the pools that offer HTTP/2, as FCM).
- pushgate_send: `WebPushSender.send` per message, encryption and the cached VAPID header
  included: the provider layer's per-message CPU (bench/fanout.py reports the whole deliver
  path, `_deliver_one`, and the target on it).
- deliver_send: `pushgate.delivery.dispatch.send` per device as `_deliver_one` calls it (the
  job's document with the device's interactions URL, encoding, encryption, the send): the
  real deliver path minus loading devices and writing outcomes (DynamoDB), which carries
  target:webpush_deliver_send_cpu_per_message<=0.5ms (cleartext, as bench/fanout.py's
  stand-in; the TLS figure beside it is what a real push service costs).
- aiohttp: `aiohttp.ClientSession` (HTTP/1.1 only, its C parser; no address check), one
  TCPConnector of CONCURRENCY connections: the reference for another client library.

cold_*: the warm-up round (connections and TLS handshakes included) of the same candidates.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench._services import Service
from tests.standins import WebPushStandin

MESSAGES = 1000
CONCURRENCY = 256
LATENCY_MS = 50
ROUNDS = 3
PAYLOAD = b'{"title":"Your order has shipped","body":"' + b"x" * 200 + b'"}'
SUBJECT = "mailto:bench@pushgate.dev"
BASELINE = "httpx_today"
# Issue #19: per Web Push message, on the cleartext stand-in as bench/fanout.py's.
TARGET_CPU_MS = 0.5
DEADLINE_SECONDS = 60.0  # the stand-in is slow on a loaded machine; no request may time out

Send = Callable[["Prepared"], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Prepared:
    url: str
    headers: dict[str, str]
    body: bytes
    p256dh: str
    auth: str


def _standin(*, tls: bool) -> WebPushStandin:
    # Every candidate keeps its connections open: up to CONCURRENCY each.
    return WebPushStandin(
        latency_ms=LATENCY_MS, decrypt_payloads=False, tls=tls, max_connections=4096
    )


def run() -> dict[str, float | str]:
    figures: dict[str, float | str] = {}
    with (
        Service(
            partial(_standin, tls=True),
            name="webpush-tls",
        ) as tls,
        Service(
            partial(_standin, tls=False),
            name="webpush-cleartext",
        ) as cleartext,
        tempfile.TemporaryDirectory() as scratch,
    ):
        ca_path = Path(scratch, "standin-ca.pem")
        ca_path.write_bytes(tls.get("ca_pem"))
        for label, service, candidates in (
            ("tls", tls, _CANDIDATES),
            ("cleartext", cleartext, _CLEARTEXT_CANDIDATES),
        ):
            samples, cold = asyncio.run(_compare(service, str(ca_path), candidates))
            for name, values in samples.items():
                figures[f"{label}_{name}_cpu_ms_per_request"] = round(statistics.median(values), 3)
            for name, values in samples.items():
                if name != BASELINE:
                    ratios = [v / b for v, b in zip(values, samples[BASELINE], strict=True)]
                    figures[f"{label}_{name}_over_{BASELINE}"] = round(statistics.median(ratios), 2)
            for name, value in cold.items():
                figures[f"{label}_cold_{name}_cpu_ms_per_request"] = round(value, 3)
    per_message = figures["cleartext_deliver_send_cpu_ms_per_request"]
    figures["target:webpush_deliver_send_cpu_per_message<=0.5ms"] = (
        "met" if isinstance(per_message, float) and per_message <= TARGET_CPU_MS else "MISSED"
    )
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)
    return figures


async def _compare(
    service: Service, ca_path: str, candidates: dict[str, Any]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    prepared = _prepare(service, MESSAGES)
    sends: dict[str, tuple[Send, Callable[[], Awaitable[None]]]] = {
        name: await make(ca_path) for name, make in candidates.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in sends}
    cold: dict[str, float] = {}
    try:
        for round_number in range(1 + ROUNDS):
            for name, (send, _) in sends.items():
                before = service.call("count")
                cpu = await _round(send, prepared)
                if (delivered := service.call("count") - before) != MESSAGES:
                    raise RuntimeError(f"{name}: {delivered} of {MESSAGES} delivered")
                if round_number:  # the first round opens the connections
                    samples[name].append(cpu * 1000 / MESSAGES)
                else:
                    cold[name] = cpu * 1000 / MESSAGES
    finally:
        for _, close in sends.values():
            await close()
    return samples, cold


async def _round(send: Send, prepared: list[Prepared]) -> float:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(request: Prepared) -> int:
        async with limit:
            return await send(request)

    started = time.process_time()
    statuses = await asyncio.gather(*(one(request) for request in prepared))
    cpu = time.process_time() - started
    if set(statuses) != {201}:
        raise RuntimeError(f"statuses {sorted(set(statuses))}")
    return cpu


def _prepare(service: Service, count: int) -> list[Prepared]:
    """`count` subscriptions' requests as WebPushSender builds them (encrypted, signed)."""
    from pushgate.crypto import SubscriptionKeys, VapidHeaderCache, encrypt, vapid_audience

    vapid = _vapid_key()
    cache = VapidHeaderCache()
    prepared = []
    for _ in range(count):
        subscription = service.call("new_subscription")
        keys = SubscriptionKeys.parse(subscription["keys"]["p256dh"], subscription["keys"]["auth"])
        endpoint = subscription["endpoint"]
        headers = {
            "TTL": "3600",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": cache.authorization(vapid, vapid_audience(endpoint), SUBJECT),
        }
        prepared.append(
            Prepared(
                endpoint,
                headers,
                encrypt(PAYLOAD, keys),
                subscription["keys"]["p256dh"],
                subscription["keys"]["auth"],
            )
        )
    return prepared


_VAPID: list[Any] = []


def _vapid_key() -> Any:
    from pushgate.crypto import VapidKey

    if not _VAPID:
        _VAPID.append(VapidKey.generate())
    return _VAPID[0]


# ---------------------------------------------------------------------------------- candidates


def _backend(network: str = "asyncio") -> Any:
    """The address-checking backend over httpcore's anyio streams (as before issue #19) or
    pushgate's asyncio ones."""
    import httpcore

    from pushgate.outbound import AddressCheckingBackend

    inner = httpcore.AnyIOBackend() if network == "anyio" else None
    return AddressCheckingBackend(allow_private=True, inner=inner)  # the stand-in is local


async def _httpx_today(
    ca_path: str, *, http2: bool = True, network: str = "anyio"
) -> tuple[Send, Any]:
    """The client and exchange pushgate sent Web Push with before issue #19 (httpx 0.28)."""
    import httpx

    from pushgate.outbound import CookielessClient, ShardedTransport, ssl_context
    from pushgate.outbound._exchange import exchange

    timeout = httpx.Timeout(10.0, connect=5.0, pool=10.0)
    transport = ShardedTransport(
        CONCURRENCY, backend=_backend(network), http2=http2, verify=ssl_context(ca_path)
    )
    client = CookielessClient(transport=transport, timeout=timeout, follow_redirects=False)

    async def send(prepared: Prepared) -> int:
        request = client.build_request(
            "POST", prepared.url, headers=prepared.headers, content=prepared.body, timeout=timeout
        )
        return (await exchange(client, request, deadline=DEADLINE_SECONDS)).status_code

    return send, client.aclose


async def _httpcore_pools(ca_path: str, *, network: str, http2: bool = True) -> tuple[Send, Any]:
    """httpcore pools of four taken in turn, called with httpcore requests directly."""
    import itertools

    import httpcore

    from pushgate.outbound import ssl_context

    backend = _backend(network)
    context = ssl_context(ca_path)
    pools = [
        httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=4,
            max_keepalive_connections=4,
            http1=True,
            http2=http2,
            network_backend=backend,
        )
        for _ in range(CONCURRENCY // 4)
    ]
    turn = itertools.cycle(pools)
    extensions = {"timeout": {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}}

    async def send(prepared: Prepared) -> int:
        async with asyncio.timeout(DEADLINE_SECONDS):
            response = await next(turn).request(
                "POST",
                prepared.url,
                headers=prepared.headers,
                content=prepared.body,
                extensions=extensions,
            )
        return response.status

    async def close() -> None:
        for pool in pools:
            await pool.aclose()

    return send, close


async def _pushgate_post(ca_path: str, *, http2: bool = False) -> tuple[Send, Any]:
    """pushgate's own outbound POST (`outbound.post`) over its delivery client, on its
    HTTP/1.1 pools as Web Push sends are (`http2=True`: the pools that offer HTTP/2)."""
    from pushgate import outbound

    client = outbound.DeliveryClient(
        CONCURRENCY, backend=_backend(), verify=outbound.ssl_context(ca_path)
    )

    async def send(prepared: Prepared) -> int:
        reply = await outbound.post(
            client,
            prepared.url,
            headers=prepared.headers,
            content=prepared.body,
            deadline=DEADLINE_SECONDS,
            http2=http2,
        )
        return reply.status_code

    return send, client.aclose


async def _aiohttp(ca_path: str) -> tuple[Send, Any]:
    import aiohttp

    from pushgate.outbound import ssl_context

    connector = aiohttp.TCPConnector(limit=CONCURRENCY, ssl=ssl_context(ca_path))
    session = aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=DEADLINE_SECONDS),
    )

    async def send(prepared: Prepared) -> int:
        async with session.post(
            prepared.url, data=prepared.body, headers=prepared.headers, allow_redirects=False
        ) as reply:
            await reply.read()
            return reply.status

    return send, session.close


async def _pushgate_send(ca_path: str) -> tuple[Send, Any]:
    """`WebPushSender.send` over the delivery client: encryption (the prepared body is not
    used) and the cached VAPID header included."""
    from pushgate import outbound
    from pushgate.providers import Outcome, WebPushSender

    client = outbound.DeliveryClient(
        CONCURRENCY, backend=_backend(), verify=outbound.ssl_context(ca_path)
    )
    sender = WebPushSender(client, deadline=DEADLINE_SECONDS)
    vapid = _vapid_key()

    async def send(prepared: Prepared) -> int:
        outcome = await sender.send(
            endpoint=prepared.url,
            p256dh=prepared.p256dh,
            auth=prepared.auth,
            payload=PAYLOAD,
            ttl=3600,
            urgency=None,
            topic=None,
            vapid_key=vapid,
            vapid_subject=SUBJECT,
        )
        if outcome != Outcome.delivered(201):
            raise RuntimeError(f"pushgate_send: {outcome}")
        return 201

    return send, client.aclose


async def _deliver_send(ca_path: str) -> tuple[Send, Any]:
    """`pushgate.delivery.dispatch.send` per device, as `_deliver_one` calls it: the job's
    Web Push document with the device's interactions URL (its MAC key derived once per
    container, as after the first device), the payload encoded, encrypted and sent."""
    from pushgate import clock, outbound
    from pushgate.delivery import dispatch
    from pushgate.delivery.app_keys import AppKeys
    from pushgate.delivery.runtime import Runtime
    from pushgate.devices.addresses import WebPushAddress
    from pushgate.interactions import capabilities
    from pushgate.notifications.models import DeliveryJob, MessageContent
    from pushgate.providers import FcmAccessTokens, FcmSender, NtfySender, Outcome, WebPushSender
    from pushgate.settings import get_settings

    # The container's root MAC key, as KMS would have derived it for the first device.
    capabilities._roots.setdefault(get_settings().token_hash_key_id, os.urandom(32))
    client = outbound.DeliveryClient(
        CONCURRENCY, backend=_backend(), verify=outbound.ssl_context(ca_path)
    )
    rt = Runtime(
        client=client,
        fcm=FcmSender(client, FcmAccessTokens(client)),
        webpush=WebPushSender(client, deadline=DEADLINE_SECONDS),
        ntfy=NtfySender(client),
        limit=asyncio.Semaphore(CONCURRENCY),
    )
    now = clock.epoch()
    app = AppKeys("app-bench", True, "bench", True, _vapid_key(), SUBJECT, None, now)
    job = DeliveryJob(
        notification_id="ntf_" + "0" * 26,
        app_id=app.app_id,
        user_id="bench-user",
        message=MessageContent(
            title="Your order has shipped",
            body="Parcel 1Z999 left the warehouse and arrives tomorrow between 9:00 and 12:00.",
            data={"order": "A-1042", "kind": "shipping"},
            url="https://shop.example.com/orders/A-1042",
            ttl=3600,
        ),
        created_at=now,
        expires_at=now + 3600,
    )

    async def send(prepared: Prepared) -> int:
        address = WebPushAddress(prepared.url, prepared.p256dh, prepared.auth)
        async with rt.limit:
            outcome = await dispatch.send(rt, job, app, address, "dev_" + prepared.auth[:8])
        if outcome != Outcome.delivered(201):
            raise RuntimeError(f"deliver_send: {outcome}")
        return 201

    return send, client.aclose


_CANDIDATES: dict[str, Any] = {
    "httpx_today": _httpx_today,
    "httpx_h1": partial(_httpx_today, http2=False),
    "httpx_asyncio": partial(_httpx_today, network="asyncio"),
    "httpcore_anyio": partial(_httpcore_pools, network="anyio"),
    "httpcore_anyio_h1": partial(_httpcore_pools, network="anyio", http2=False),
    "pushgate_post": _pushgate_post,
    "pushgate_post_h2": partial(_pushgate_post, http2=True),
    "pushgate_send": _pushgate_send,
    "deliver_send": _deliver_send,
    "aiohttp": _aiohttp,
}
_CLEARTEXT_CANDIDATES: dict[str, Any] = {
    "httpx_today": _httpx_today,
    "httpx_asyncio": partial(_httpx_today, network="asyncio"),
    "httpcore_anyio": partial(_httpcore_pools, network="anyio"),
    "pushgate_post": _pushgate_post,
    "pushgate_send": _pushgate_send,
    "deliver_send": _deliver_send,
    "aiohttp": _aiohttp,
}
