"""Fan-out: one deliver invocation sending 1,000 messages to a push service that adds 50 ms
per request, beside a sequential pywebpush loop and firebase-admin's `send_each`.

The invocation is the real one: `functions/deliver/app.lambda_handler` in this process, with
Lambda's environment and an SQS event built from messages the send path queued
(`notifications.service.accept`), against the local stack's emulator (child process) and the
provider stand-ins (child processes: neither shares this interpreter's lock). Devices are
registered through the registry beforehand; registration and sending are not timed.

Job shape: 100 SQS records x 10 devices. A record is one (notification, user) job and costs a
fixed number of AWS calls (a devices query, an outcomes update per 25 devices, a receipts
batch per 10), so records x devices sets the AWS share: 100 x 10 is a bulk send to users with
several devices each, and needs a batch size of 100 (Lambda allows up to 10,000 with a
batching window; template.yaml has 10). The moto emulator serialises every call, so the
invocation's time is split into wall time with an AWS call in flight and with a provider
request in flight, and the provider fan-out (`_deliver_one` for the same 1,000 devices, what
runs between loading devices and writing outcomes) is timed on its own as well.

pywebpush runs a sample of SEQUENTIAL_SAMPLE messages (1,000 would take a minute) and is
scaled to 1,000. firebase-admin is pointed at the FCM stand-in with a service-account key
whose `token_uri` is the stand-in's, `REQUESTS_CA_BUNDLE` for its certificate, and
`messaging._MessagingService.FCM_URL` (the SDK has no public endpoint option) overridden.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from bench import _aws_calls, _stack
from bench._services import Service
from local.context import LambdaContext
from local.environ import patched_environ
from tests.standins import FcmStandin, WebPushStandin

RECORDS = 100
DEVICES_PER_RECORD = 10
MESSAGES = RECORDS * DEVICES_PER_RECORD
LATENCY_MS = 50
WARM_RUNS = 2
PROVIDER_RUNS = 3
SEQUENTIAL_SAMPLE = 25
TARGET_SECONDS = 1.5
TARGET_SPEEDUP = 30.0
# Process CPU (user + system) of the provider fan-out per Web Push message, issue #19.
TARGET_CPU_MS_PER_MESSAGE = 0.5
SUBJECT = "mailto:bench@pushgate.dev"
_REGISTRATION_THREADS = 4


def run() -> dict[str, float | str]:
    with (
        Service(
            partial(WebPushStandin, latency_ms=LATENCY_MS, decrypt_payloads=False), name="webpush"
        ) as webpush,
        Service(partial(FcmStandin, latency_ms=LATENCY_MS, tls=True), name="fcm") as fcm,
        tempfile.TemporaryDirectory() as scratch,
    ):
        ca_path = Path(scratch, "standin-ca.pem")
        ca_path.write_bytes(fcm.get("ca_pem"))
        account = fcm.call("new_service_account", "bench-project")
        fcm_url = fcm.get("url")
        env = _stack.lambda_env(
            "DeliverFunction",
            {
                "PUSHGATE_FCM_API_URL": fcm_url,
                "PUSHGATE_GOOGLE_TOKEN_URL": fcm.get("token_uri"),
                "PUSHGATE_FCM_CREDENTIALS": json.dumps(account),
                "PUSHGATE_CA_BUNDLE": str(ca_path),
            },
        )
        # Receipts are queued (an app with a webhook), so the invocation does all it can do.
        webpush_app = _stack.new_app(webhook_url="http://127.0.0.1:9/receipts")
        fcm_app = _stack.new_app(webhook_url="http://127.0.0.1:9/receipts")
        _stack.progress("fanout: services up, apps created")
        with _stack.environment(env):
            handler = _stack.load_handler("deliver")
            webpush_users = _register_users(
                webpush_app, "web", lambda: webpush.call("new_subscription")
            )
            fcm_users = _register_users(fcm_app, "android", _fcm_token)
            _stack.progress("fanout: devices registered")
            figures: dict[str, float | str] = {}
            webpush_result = _measure(handler, webpush_app, webpush_users, webpush.call, "count")
            fcm_result = _measure(handler, fcm_app, fcm_users, fcm.call, "count")
            pool_probe = _pool_probe(webpush.get("url"))
        sequential = _pywebpush_loop(webpush)
        _stack.progress(f"fanout: pywebpush {sequential:.1f} s per 1000")
        firebase = _firebase_send_each(fcm, account, str(ca_path), fcm_url)
        _stack.progress(f"fanout: firebase-admin {firebase:.1f} s per 1000")

    for name, result in (("webpush", webpush_result), ("fcm_h2", fcm_result)):
        for key, value in result.items():
            figures[f"{name}_{key}"] = value
    figures["pywebpush_sequential_s_per_1000"] = round(sequential, 2)
    figures["firebase_admin_send_each_s_per_1000"] = round(firebase, 2)
    figures["pywebpush_over_pushgate_invocation"] = round(
        sequential / webpush_result["invocation_s"], 1
    )
    figures["pywebpush_over_pushgate_provider_fanout"] = round(
        sequential / webpush_result["provider_fanout_s"], 1
    )
    figures["firebase_admin_over_pushgate_fcm_invocation"] = round(
        firebase / fcm_result["invocation_s"], 1
    )
    figures.update(pool_probe)
    worst_invocation = max(webpush_result["invocation_s"], fcm_result["invocation_s"])
    worst_fanout = max(webpush_result["provider_fanout_s"], fcm_result["provider_fanout_s"])
    figures["target:invocation<=1.5s"] = _verdict(worst_invocation <= TARGET_SECONDS)
    figures["target:provider_fanout<=1.5s"] = _verdict(worst_fanout <= TARGET_SECONDS)
    figures["target:webpush_cpu_per_message<=0.5ms"] = _verdict(
        webpush_result["cpu_ms_per_message"] <= TARGET_CPU_MS_PER_MESSAGE
    )
    figures["target:pywebpush_over_pushgate>=30"] = _verdict(
        sequential / webpush_result["invocation_s"] >= TARGET_SPEEDUP
    )
    return figures


# ---------------------------------------------------------------------------------- set-up


def _fcm_token() -> str:
    return "bench-" + uuid.uuid4().hex + ":APA91b" + "t" * 100


def _register_users(app_id: str, platform: str, new_token: Any) -> list[str]:
    from concurrent.futures import ThreadPoolExecutor

    users = [f"{platform}-{uuid.uuid4().hex[:8]}" for _ in range(RECORDS)]
    tokens = [(user, new_token()) for user in users for _ in range(DEVICES_PER_RECORD)]
    with ThreadPoolExecutor(_REGISTRATION_THREADS) as pool:
        list(pool.map(lambda pair: _stack.register(app_id, pair[0], platform, pair[1]), tokens))
    return users


def _message() -> Any:
    from pushgate.notifications.models import MessageContent

    return MessageContent(
        title="Your order has shipped",
        body="Parcel 1Z999 left the warehouse and arrives tomorrow between 9:00 and 12:00.",
        data={"order": "A-1042", "kind": "shipping"},
        url="https://shop.example.com/orders/A-1042",
        ttl=3600,
    )


def _queue_jobs(app_id: str, users: list[str]) -> list[dict[str, Any]]:
    """The send path queues one job per user; receive them as Lambda's poller would."""
    from pushgate.notifications.service import Recipient, accept
    from pushgate.settings import get_settings

    message = _message()
    accept(app_id, [Recipient(user, message) for user in users])
    return _stack.receive_all(get_settings().delivery_queue_url, len(users))


# ---------------------------------------------------------------------------------- measuring


def _measure(
    handler: Any, app_id: str, users: list[str], standin: Any, count_method: str
) -> dict[str, float]:
    """One cold-container invocation, WARM_RUNS warm ones, then the provider fan-out alone."""
    from pushgate.delivery import runtime
    from pushgate.settings import get_settings

    loop = _fresh_loop()
    invocations: list[float] = []
    cpu: list[float] = []
    aws_busy: list[float] = []
    provider_busy: list[float] = []
    aws_calls: list[int] = []
    cold = 0.0
    for attempt in range(1 + WARM_RUNS):
        messages = _queue_jobs(app_id, users)
        event = _stack.sqs_event(messages, "DeliveryQueue")
        # moto's SendMessage is O(messages in the queue): each run gets an empty receipts queue.
        receipts = _stack.fresh_receipt_queue()
        before = standin(count_method)
        recorder = _aws_calls.record()
        hooks = _ProviderHooks.attach()
        cpu_started = time.process_time()
        elapsed, result = _invoke(handler, event)
        cpu_used = time.process_time() - cpu_started
        _aws_calls.stop()
        if hooks is not None:
            hooks.detach()
        delivered = standin(count_method) - before
        if result.get("batchItemFailures") or delivered != MESSAGES:
            raise RuntimeError(f"{delivered} of {MESSAGES} delivered; result {result}")
        _stack.delete_all(get_settings().delivery_queue_url, messages)
        _stack.delete_queue(receipts)
        _stack.progress(f"fanout {app_id}: invocation {attempt} {elapsed:.2f} s")
        if attempt == 0:
            cold = elapsed
            continue
        invocations.append(elapsed)
        cpu.append(cpu_used)
        aws_busy.append(_aws_calls.busy_seconds(recorder.intervals()))
        provider_busy.append(_aws_calls.busy_seconds(hooks.intervals if hooks else []))
        aws_calls.append(len(recorder.calls))
    fanouts = [
        loop.run_until_complete(_provider_fanout(app_id, users)) for _ in range(PROVIDER_RUNS)
    ]
    _stack.progress(f"fanout {app_id}: provider fan-out {fanouts}")
    for current in runtime._runtimes.values():  # close its connections before the next test
        loop.run_until_complete(current.client.aclose())
    return {
        "invocation_s": round(statistics.median(invocations), 3),
        "invocation_cpu_s": round(statistics.median(cpu), 3),
        "cold_container_invocation_s": round(cold, 3),
        "aws_busy_s": round(statistics.median(aws_busy), 3),
        "provider_busy_s": round(statistics.median(provider_busy), 3),
        "aws_calls": float(statistics.median(aws_calls)),
        "provider_fanout_s": round(statistics.median(s for s, _, _ in fanouts), 3),
        "provider_fanout_cpu_s": round(statistics.median(c for _, c, _ in fanouts), 3),
        "cpu_ms_per_message": round(
            statistics.median(c for _, c, _ in fanouts) / MESSAGES * 1e3, 3
        ),
        "provider_fanout_retried_sends": float(max(r for _, _, r in fanouts)),
    }


def _fresh_loop() -> asyncio.AbstractEventLoop:
    """A new container's event loop (Powertools reuses the current one, as in Lambda)."""
    with contextlib.suppress(RuntimeError):
        old = asyncio.get_event_loop_policy().get_event_loop()
        if not old.is_closed():
            old.close()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    _stack.reset_containers()
    return loop


def _invoke(handler: Any, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    context = LambdaContext(memory_limit_in_mb=1024)
    with _stack.quiet_stdout(), _stack.traced_invocation():
        started = time.perf_counter()
        result = handler(event, context)
        elapsed = time.perf_counter() - started
    return elapsed, result


class _ProviderHooks:
    """Provider request intervals (request handed to the pool → answer read), from a wrapper
    around the delivery client's direct exchange (`pushgate.outbound._exchange._post_direct`:
    provider sends bypass httpx's client and its event hooks)."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []
        self._restore: Callable[[], None] = lambda: None

    @classmethod
    def attach(cls) -> _ProviderHooks | None:
        from pushgate.delivery import runtime
        from pushgate.outbound import _exchange

        if not runtime._runtimes:
            return None  # a cold container: the client does not exist yet
        hooks = cls()
        original = _exchange._post_direct

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                hooks.intervals.append((started, time.perf_counter()))

        _exchange._post_direct = timed  # type: ignore[assignment]
        hooks._restore = lambda: setattr(_exchange, "_post_direct", original)
        return hooks

    def detach(self) -> None:
        self._restore()


async def _provider_fanout(app_id: str, users: list[str]) -> tuple[float, float, int]:
    """`_deliver_one` for every device of `users` (devices loaded, app keys cached): the
    provider half of an invocation, without the AWS half. Returns wall and CPU seconds, and
    how many sends needed more than one try (a pool timeout or a reset is retried)."""
    from pushgate import clock
    from pushgate.delivery import service
    from pushgate.delivery.app_keys import app_keys
    from pushgate.delivery.runtime import runtime
    from pushgate.devices.service import user_devices
    from pushgate.notifications.models import DeliveryJob
    from pushgate.settings import get_settings

    settings = get_settings()
    app = app_keys(app_id)
    owner = app.user_issuer if app is not None else None
    devices = [device for user in users for device in user_devices(app_id, user, owner, limit=None)]
    now = clock.epoch()
    job = DeliveryJob(
        notification_id="ntf_" + "0" * 26,
        app_id=app_id,
        user_id=users[0],
        message=_message(),
        created_at=now,
        expires_at=now + 3600,
    )
    rt = runtime()
    started, cpu_started = time.perf_counter(), time.process_time()
    results = await asyncio.gather(
        *(
            service._deliver_one(
                rt,
                job,
                app,
                device,
                attempts=0,
                max_attempts=settings.max_delivery_attempts,
                retry_base=settings.retry_base_seconds,
            )
            for device in devices
        )
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    failed = [r.outcome for r in results if r.final != "delivered"]
    if failed or len(results) != MESSAGES:
        raise RuntimeError(f"provider fan-out: {len(failed)} not delivered, e.g. {failed[:3]}")
    return elapsed, cpu, sum(1 for r in results if r.attempts > 1)


def _pool_probe(webpush_url: str) -> dict[str, float]:
    """The report that started this: 1,000 requests at once (no semaphore) to the 50 ms
    service through `httpx.AsyncClient(max_connections=200)`, beside the same 200
    connections as pushgate's ShardedTransport (pools of four)."""
    import httpx

    from pushgate.outbound import AddressCheckingBackend, ShardedTransport

    backend = AddressCheckingBackend(allow_private=True)  # the stand-in is on 127.0.0.1

    async def probe(client: httpx.AsyncClient) -> tuple[int, int, float, float]:
        async def one() -> str:
            try:
                await client.post(f"{webpush_url}/push/nobody", content=b"")
            except httpx.PoolTimeout:
                return "pool_timeout"
            except httpx.HTTPError:
                return "other_error"
            return "answered"

        async with client:
            started, cpu_started = time.perf_counter(), time.process_time()
            outcomes = await asyncio.gather(*(one() for _ in range(MESSAGES)))
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        return outcomes.count("pool_timeout"), outcomes.count("other_error"), elapsed, cpu

    timeout = httpx.Timeout(10.0, pool=10.0)
    figures: dict[str, float] = {}
    for name, make in (
        (
            "httpx_200_pool",
            lambda: httpx.AsyncClient(limits=httpx.Limits(max_connections=200), timeout=timeout),
        ),
        (
            "sharded_200",
            lambda: httpx.AsyncClient(
                transport=ShardedTransport(200, backend=backend), timeout=timeout
            ),
        ),
    ):
        timeouts, errors, elapsed, cpu = asyncio.run(probe(make()))
        figures[f"probe_{name}_pool_timeouts"] = float(timeouts)
        figures[f"probe_{name}_other_errors"] = float(errors)
        figures[f"probe_{name}_s"] = round(elapsed, 3)
        figures[f"probe_{name}_cpu_s"] = round(cpu, 3)
    return figures


# ---------------------------------------------------------------------------------- baselines


def _pywebpush_loop(webpush: Service) -> float:
    """Seconds per 1,000 messages for `webpush(...)` called once per subscription."""
    from py_vapid import Vapid
    from pywebpush import webpush as pywebpush

    from pushgate.crypto import VapidKey

    vapid = Vapid.from_raw(VapidKey.generate().export_private_key().encode())
    subscriptions = [webpush.call("new_subscription") for _ in range(SEQUENTIAL_SAMPLE)]
    payload = _message().webpush_payload("ntf_" + "1" * 26)
    before = webpush.call("count")
    started = time.perf_counter()
    for subscription in subscriptions:
        pywebpush(
            subscription,
            data=payload,
            vapid_private_key=vapid,
            vapid_claims={"sub": SUBJECT},  # pywebpush adds aud and exp to the dict it gets
            ttl=3600,
            timeout=10,
        )
    elapsed = time.perf_counter() - started
    if webpush.call("count") - before != SEQUENTIAL_SAMPLE:
        raise RuntimeError("pywebpush messages were not all delivered")
    return elapsed / SEQUENTIAL_SAMPLE * MESSAGES


def _firebase_send_each(fcm: Service, account: dict[str, str], ca_path: str, url: str) -> float:
    """Seconds for 1,000 messages through `messaging.send_each` (500 per call, its limit)."""
    import firebase_admin
    from firebase_admin import credentials, messaging

    with patched_environ({"REQUESTS_CA_BUNDLE": ca_path}), _fcm_url(messaging, url):
        app = firebase_admin.initialize_app(
            credentials.Certificate(account), name=f"bench-{uuid.uuid4().hex[:6]}"
        )
        try:
            tokens = [_fcm_token() for _ in range(MESSAGES)]
            message = _message()
            messages = [
                messaging.Message(
                    token=token,
                    notification=messaging.Notification(title=message.title, body=message.body),
                    data=message.data,
                    android=messaging.AndroidConfig(ttl=3600),
                )
                for token in tokens
            ]
            messaging.send_each(messages[:1], app=app)  # the OAuth token, once
            started = time.perf_counter()
            responses = [
                messaging.send_each(messages[i : i + 500], app=app) for i in range(0, MESSAGES, 500)
            ]
            elapsed = time.perf_counter() - started
        finally:
            firebase_admin.delete_app(app)
    if sum(response.success_count for response in responses) != MESSAGES:
        raise RuntimeError("firebase-admin messages were not all delivered")
    return elapsed


@contextlib.contextmanager
def _fcm_url(messaging: Any, base_url: str) -> Iterator[None]:
    service = messaging._MessagingService
    saved = service.FCM_URL
    service.FCM_URL = base_url + "/v1/projects/{0}/messages:send"
    try:
        yield
    finally:
        service.FCM_URL = saved


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
