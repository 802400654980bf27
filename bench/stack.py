"""The local stack keeps up: notifications per second end to end through `make run`'s stack
(send API -> delivery queue -> deliver workers -> a Web Push service adding 50 ms a request),
beside a sequential pywebpush loop over the same stand-in.

The stack is the one `python -m local` builds (`local.__main__.build_stack`, ports picked
free), in a child process with its SQS pollers and Lambda-like worker processes; the Web Push
stand-in (`tests.standins.WebPushStandin`, which checks VAPID and decrypts every payload as a
browser would) runs in another child. USERS users each register one Web Push subscription
through `POST /push/devices/register` with their own user token, and a send to 200 of them
warms the functions' workers (neither timed). The timed part
is what a tenant sending to many users does: `POST /push/send/bulk` with up to 500 user ids a
request (the API's limit, `PUSH_MAX_BATCH_SIZE`), the requests one after another, from the
first request until the stand-in has received and decrypted every notification (its own
receive times). The figures include the emulator's own account of where its time went: how
busy moto was (the share of the window it held its lock, per service) and calls per operation.

pywebpush runs `bench.fanout`'s loop (a sample of 25 messages, scaled) over the same stand-in.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench import _stack
from bench._services import Service
from bench.fanout import MESSAGES as SEQUENTIAL_PER
from bench.fanout import SUBJECT, _pywebpush_loop
from tests.standins import WebPushStandin

USERS = int(os.environ.get("BENCH_STACK_USERS", "1000"))
BULK_LIMIT = 500
WARM_UP_USERS = 200
LATENCY_MS = 50
TARGET_PER_SECOND = 300.0
TARGET_SPEEDUP = 10.0
TIMEOUT_SECONDS = 300.0
_REGISTRATION_THREADS = 8
_SHOWN_OPERATIONS = 8


def _make_stack(log_dir: str) -> Any:
    """The stack `python -m local` starts, on free ports, logging to `log_dir`."""
    from local.__main__ import build_stack, parse_args

    return build_stack(parse_args(["--port", "0", "--aws-port", "0", "--log-dir", log_dir]), {})


def run() -> dict[str, float | str]:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Service(partial(WebPushStandin, latency_ms=LATENCY_MS), name="webpush") as webpush,
        Service(partial(_make_stack, str(Path(scratch, "logs"))), name="local-stack") as stack,
    ):
        api_url = stack.get("api_url")
        with httpx.Client(base_url=api_url, timeout=120) as http:
            app_id = _new_app(http, stack)
            users = _register_users(http, stack, webpush, app_id)
            _stack.progress(
                f"stack: {len(users)} subscriptions registered (stack pid {stack._process.pid})"
            )
            # Warm containers first (Lambda keeps them between sends): the send function's,
            # the deliver pollers' and the receipts', with a send to a few of the users.
            warm = _send(http, stack, app_id, users[:WARM_UP_USERS])
            _wait_received(webpush, set(warm))
            webpush.call("clear")
            before = stack.call("emulator_stats")
            load_before = os.getloadavg()[0]
            cpu_before = _children_cpu(stack, webpush)
            started = time.time()
            ids = _send(http, stack, app_id, users)
            sent = time.time()
            received = _wait_received(webpush, set(ids))
            finished = max(received)
            after = stack.call("emulator_stats")
            cpu_after = _children_cpu(stack, webpush)
            load_after = os.getloadavg()[0]
        _stack.progress(f"stack: {len(ids)} delivered in {finished - started:.2f} s")
        sequential = _pywebpush_loop(webpush)

    elapsed = finished - started
    rate = len(ids) / elapsed
    sequential_rate = SEQUENTIAL_PER / sequential
    figures: dict[str, float | str] = {
        "notifications": float(len(ids)),
        "send_requests_s": round(sent - started, 3),
        "end_to_end_s": round(elapsed, 3),
        "median_latency_s": round(statistics.median(received) - started, 3),
        "notifications_per_s": round(rate, 1),
        "pywebpush_sequential_per_s": round(sequential_rate, 1),
        "speedup_over_pywebpush": round(rate / sequential_rate, 1),
        "load_average_1m": f"{load_before:.1f} -> {load_after:.1f}",
    }
    for label in sorted(cpu_after):
        used = cpu_after[label] - cpu_before.get(label, 0.0)
        figures[f"cpu_ms_per_notification {label}"] = round(used * 1000 / len(ids), 2)
    figures.update(_emulator_figures(before, after, elapsed))
    figures[f"target:notifications_per_s>={TARGET_PER_SECOND:.0f}"] = _verdict(
        rate >= TARGET_PER_SECOND
    )
    figures[f"target:over_pywebpush>={TARGET_SPEEDUP:.0f}x"] = _verdict(
        rate / sequential_rate >= TARGET_SPEEDUP
    )
    return figures


# ---------------------------------------------------------------------------------- set-up


def _token(stack: Service, sub: str, **claims: Any) -> str:
    return str(stack.call("mint_token", sub, **claims))


def _new_app(http: httpx.Client, stack: Service) -> str:
    app_id = f"bench-{uuid.uuid4().hex[:10]}"
    admin = _token(stack, "bench-ops", scope="push:admin")
    response = http.patch(
        f"/push/config/{app_id}",
        headers={"authorization": f"Bearer {admin}"},
        json={"enabled": True, "vapid_subject": SUBJECT, "daily_quota": 10 * USERS},
    )
    response.raise_for_status()
    return app_id


def _register_users(http: httpx.Client, stack: Service, webpush: Service, app_id: str) -> list[str]:
    """USERS users, one Web Push subscription each, registered as their browsers would."""
    users = [f"user-{index:05d}-{uuid.uuid4().hex[:6]}" for index in range(USERS)]
    subscriptions = [webpush.call("new_subscription") for _ in users]
    tokens = [_token(stack, user, aud=[app_id]) for user in users]

    def register(index: int) -> None:
        response = http.post(
            "/push/devices/register",
            headers={"authorization": f"Bearer {tokens[index]}"},
            json={"app_id": app_id, "platform": "web", "push_token": subscriptions[index]},
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"registration failed: {response.status_code} {response.text}")

    with ThreadPoolExecutor(_REGISTRATION_THREADS) as pool:
        list(pool.map(register, range(len(users))))
    return users


# ---------------------------------------------------------------------------------- measuring


def _send(http: httpx.Client, stack: Service, app_id: str, users: Sequence[str]) -> list[str]:
    """What a tenant sending one notification to many users does: bulk sends of 500."""
    token = _token(stack, app_id, scope="push:send")
    ids: list[str] = []
    for start in range(0, len(users), BULK_LIMIT):
        response = http.post(
            "/push/send/bulk",
            headers={"authorization": f"Bearer {token}"},
            json={
                "user_ids": list(users[start : start + BULK_LIMIT]),
                "title": "Your order has shipped",
                "body": "Parcel 1Z999 left the warehouse and arrives tomorrow.",
                "data": {"order": "A-1042"},
                "ttl": 3600,
            },
        )
        if response.status_code != 202:
            raise RuntimeError(f"send failed: {response.status_code} {response.text}")
        ids += response.json()["notification_ids"]
    return ids


def _wait_received(webpush: Service, ids: set[str]) -> list[float]:
    """The stand-in's receive time of each notification, once every one was delivered and
    decrypted (its payload names its notification id); raises on a duplicate or a timeout."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        if webpush.call("count") >= len(ids):
            messages = webpush.call("delivered")
            seen = [message.notification_id for message in messages]
            if sorted(seen) != sorted(ids):
                raise RuntimeError(f"stand-in got {len(seen)} messages, not the {len(ids)} sent")
            return [message.received_at for message in messages]
        if time.monotonic() > deadline:
            count = webpush.call("count")
            raise TimeoutError(f"{count} of {len(ids)} delivered in {TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.05)


def _children_cpu(stack: Service, webpush: Service) -> dict[str, float]:
    """CPU seconds by process: the stack's own (emulator, API, pollers), its workers by
    function, and the stand-in's, from /proc (empty where /proc is missing)."""
    usage = _tree_cpu(stack._process.pid, "stack")
    usage.update(_tree_cpu(webpush._process.pid, "webpush_standin"))
    return usage


def _tree_cpu(pid: int, name: str) -> dict[str, float]:
    usage: dict[str, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    pending = [(pid, name)]
    while pending:
        current, label = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{current}/cmdline").read_bytes().split(b"\0")
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        # A child belongs to the thread that started it: every thread's list.
        children = []
        for task in tasks:
            with contextlib.suppress(OSError):  # a thread that just ended
                children += (task / "children").read_text().split()
        if current != pid:
            # A function worker: `python -I -u _bootstrap.py app.lambda_handler CODE_DIR ...`
            label = next(
                (
                    Path(part.decode()).name
                    for part in command
                    if part.endswith(b"/functions/" + Path(part.decode()).name.encode())
                ),
                label,
            )
        usage[label] = usage.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
        pending += [(int(child), label) for child in children]
    return usage


def _emulator_figures(
    before: dict[str, Any], after: dict[str, Any], elapsed: float
) -> dict[str, float | str]:
    """Busy share of the window and calls per operation, from two `emulator_stats()`."""
    operations: dict[str, tuple[int, float]] = {}
    for name, now in after["operations"].items():
        then = before["operations"].get(name, {"calls": 0, "busy_s": 0.0})
        calls, busy = now["calls"] - then["calls"], now["busy_s"] - then["busy_s"]
        if calls:
            operations[name] = (calls, busy)
    busy = sum(value[1] for value in operations.values())
    figures: dict[str, float | str] = {
        "emulator_calls": float(sum(value[0] for value in operations.values())),
        "emulator_busy_fraction": round(busy / elapsed, 2),
        "emulator_lock_wait_s": round(after["waiting_s"] - before["waiting_s"], 2),
    }
    services: dict[str, float] = {}
    for name, (_, seconds) in operations.items():
        service = name.split(".", 1)[0]
        services[service] = services.get(service, 0.0) + seconds
    for service, seconds in sorted(services.items()):
        figures[f"emulator_busy_fraction_{service}"] = round(seconds / elapsed, 2)
    ranked = sorted(operations.items(), key=lambda item: item[1][1], reverse=True)
    for name, (calls, seconds) in ranked[:_SHOWN_OPERATIONS]:
        figures[f"calls {name}"] = f"{calls} ({seconds * 1000 / calls:.1f} ms)"
    return figures


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"
