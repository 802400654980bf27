"""Every AWS request pushgate makes in this process, from botocore's own events.

boto3's clients and PynamoDB's (one botocore session per thread) are all made by
`botocore.session.Session.create_client`; `install()` wraps it once so that every client
made afterwards reports `before-call` / `after-call` to the active `Recorder`. A bench's own
plumbing clients mark their calls and are not counted.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import botocore.session


@dataclass(frozen=True, slots=True)
class AwsCall:
    service: str  # botocore's service id, e.g. "dynamodb", "sqs", "kms"
    operation: str
    params: dict[str, Any]
    response: dict[str, Any]
    started: float
    ended: float
    job: str | None = None  # the SQS record whose handling made the call (`current_job`)


# The SQS record being handled, set by a bench around a function's record handler: the
# handler's threads (asyncio.to_thread) run in a copy of its context, so each call knows it.
current_job: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bench_current_job", default=None
)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[AwsCall] = []
        self._lock = threading.Lock()

    def add(self, call: AwsCall) -> None:
        with self._lock:
            self.calls.append(call)

    def counts(self) -> Counter[str]:
        return Counter(f"{call.service}:{call.operation}" for call in self.calls)

    def intervals(self) -> list[tuple[float, float]]:
        return [(call.started, call.ended) for call in self.calls]

    def critical_path_calls(self) -> int:
        """The calls on the invocation's critical path: the longest chain of one job's calls
        (its jobs run concurrently), plus the chain of the calls made outside any job (the
        batch's own, after its jobs). A function without jobs is one chain."""
        by_job: dict[str | None, list[tuple[float, float]]] = {}
        for call in self.calls:
            by_job.setdefault(call.job, []).append((call.started, call.ended))
        shared = sequential_calls(by_job.pop(None, []))
        return shared + max((sequential_calls(calls) for calls in by_job.values()), default=0)


class _State:
    active: Recorder | None = None
    installed = False


def install() -> None:
    """Hook every botocore client created from now on (idempotent)."""
    if _State.installed:
        return
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _before_parameter_build)
        client.meta.events.register("before-call", _before_call)
        client.meta.events.register("after-call", _after_call)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    _State.installed = True


def record() -> Recorder:
    """Start counting into a fresh recorder (replacing any active one)."""
    install()
    _State.active = Recorder()
    return _State.active


def stop() -> None:
    _State.active = None


def _before_parameter_build(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["bench_params"] = params


def _before_call(context: dict[str, Any], **_: Any) -> None:
    context["bench_started"] = time.perf_counter()
    context["bench_job"] = current_job.get()


def _after_call(model: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    recorder = _State.active
    if recorder is None or context.get("bench_plumbing"):
        return
    recorder.add(
        AwsCall(
            service=model.service_model.endpoint_prefix,
            operation=model.name,
            params=context.get("bench_params") or {},
            response=parsed if isinstance(parsed, dict) else {},
            started=context.get("bench_started", time.perf_counter()),
            ended=time.perf_counter(),
            job=context.get("bench_job"),
        )
    )


def busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Wall time during which at least one of `intervals` was open (their union)."""
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def sequential_calls(intervals: list[tuple[float, float]]) -> int:
    """The most of `intervals` that ran one after another (each starting once the one before
    it had ended): the length in calls of the invocation's critical path through AWS.

    Calls in flight together count once, so ten concurrent queries followed by one write are
    two. The greedy choice (always the call that ends first among those starting after the
    last one taken) gives the longest such chain. It reflects when the code issued its calls,
    not how fast the emulator answered them: calls it issued together still overlap while the
    emulator serves them one at a time, and a call that waits for a free thread or connection
    starts late, after another ended, and so lengthens the chain."""
    chain, last_end = 0, float("-inf")
    for start, end in sorted(intervals, key=lambda interval: interval[1]):
        if start >= last_end:
            chain, last_end = chain + 1, end
    return chain
