"""The local stack for benches, and running pushgate's functions in this process against it.

The stack (moto, provisioned from template.yaml) lives in a child process (`bench._services`)
and is shared by every bench of one run. Its SQS pollers are stopped: a bench builds the
events Lambda would, from messages it receives itself, so nothing runs behind its back.
Functions run here, in-process, with the environment Lambda gives them (`lambda_env`).
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import cache, partial
from pathlib import Path
from typing import Any

import httpx

from bench import _aws_calls
from bench._services import Service
from local.cfn import REGION
from local.environ import patched_environ
from local.pollers import build_sqs_event
from local.runtime import new_trace_header
from local.stack import LocalStack
from local.template import SqsEventSource

REPO = Path(__file__).resolve().parent.parent
LOG_DIR = REPO / ".local" / "logs" / "bench"
# The Lambda runtime's own variables (what `local/stack.py` gives its workers), for the
# functions run in this process. LAMBDA_TASK_ROOT also makes Powertools' batch processor
# keep one event loop across invocations, as in Lambda.
MEMORY_MB = {"DeliverFunction": 1024}
DEFAULT_MEMORY_MB = 512


class BenchStack(LocalStack):
    """LocalStack without pollers (the bench drives the queues), whose emulator skips moto's
    whole-table backup before each DynamoDB transaction: that backup is a deep copy of every
    table named, O(items) per call, which makes registering a bench's 3,000 devices take
    many minutes. The benches' transactions never fail, so they never need the rollback."""

    def start(self) -> BenchStack:
        import moto.dynamodb.models

        moto.dynamodb.models.copy = _NoTableBackup()  # type: ignore[assignment]
        super().start()
        pollers, self._pollers = self._pollers, []
        for poller in pollers:
            poller.stop()
        self._sources = [poller.source for poller in pollers]
        return self

    def sqs_sources(self) -> list[SqsEventSource]:
        """The template's SQS event sources (queue, batch size), as Lambda would poll them."""
        return list(self._sources)

    def admin_token(self) -> str:
        return self.mint_token("bench-ops", scope="push:admin")


class _NoTableBackup:
    """`copy` for moto's DynamoDB backend, with tables "copied" as themselves."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@cache
def shared_stack() -> Service:
    stack = Service(partial(BenchStack, log_dir=LOG_DIR, max_workers=2), name="stack")
    atexit.register(stack.close)
    return stack


def lambda_env(function_id: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What `function_id` sees in Lambda (template variables resolved to the stack's
    resources, emulator endpoint, test credentials), plus `extra`."""
    stack = shared_stack()
    env = stack.call("environment", function_id)
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(REPO / "functions" / function_id.removesuffix("Function")),
            "AWS_LAMBDA_FUNCTION_NAME": f"pushgate-{function_id}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB.get(function_id, DEFAULT_MEMORY_MB)),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "PUSHGATE_ALLOW_PRIVATE_URLS": "1",
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """os.environ updated with `env` and pushgate's per-container caches emptied, then both
    restored: each use is a fresh container (its modules already imported).

    Between invocations the trace header is an unsampled one: botocore is patched for the
    whole process once the Tracer is on, and the bench's own AWS calls are not worth a trace
    (`traced_invocation` gives each invocation a sampled one, as the local stack does)."""
    _aws_calls.install()  # before any client exists, so every one of them is counted
    with patched_environ({**env, "_X_AMZN_TRACE_ID": new_trace_header(sampled=False)}):
        reset_containers()
        try:
            yield
        finally:
            reset_containers()


def reset_containers() -> None:
    """Forget everything a Lambda container keeps between invocations: every cached function
    of the modules that hold per-container state, delivery's app cache and the shared client."""
    from pushgate import aws, outbound, sealing, settings
    from pushgate.auth import tokens
    from pushgate.delivery import app_keys, runtime

    for module in (settings, sealing, tokens, aws, runtime, app_keys):
        for value in vars(module).values():
            if hasattr(value, "cache_clear") and value.__module__ == module.__name__:
                value.cache_clear()
    runtime._runtimes.clear()
    app_keys.clear()
    outbound.client.cache_clear()


@contextlib.contextmanager
def traced_invocation() -> Iterator[None]:
    """One invocation's trace header, new and sampled, as the Lambda runtime sets it."""
    previous = os.environ.get("_X_AMZN_TRACE_ID")
    os.environ["_X_AMZN_TRACE_ID"] = new_trace_header()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        else:
            os.environ["_X_AMZN_TRACE_ID"] = previous


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send fd 1 to /dev/null: Powertools' logger and EMF metrics write there (CloudWatch in
    Lambda), and the bench's table must stay readable. The writes still happen."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class CapturedOutput:
    bytes = 0


@contextlib.contextmanager
def captured_stdout() -> Iterator[CapturedOutput]:
    """Like `quiet_stdout`, counting the bytes written (what CloudWatch Logs would ingest)."""
    import sys
    import tempfile

    sys.stdout.flush()
    saved = os.dup(1)
    captured = CapturedOutput()
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            captured.bytes = sink.seek(0, os.SEEK_END)


def load_handler(function: str) -> Any:
    """`functions/<function>/app.py`'s `lambda_handler`, imported under a unique name. Load
    it inside `environment(lambda_env(...))`: the first import of pushgate.observability
    builds the Tracer, which traces and patches (as in Lambda) only with LAMBDA_TASK_ROOT set."""
    import importlib.util

    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"bench_{function}_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


# ---------------------------------------------------------------------------- set-up helpers


def new_app(**config: Any) -> str:
    """An enabled app, configured through the API (PATCH /push/config/{app_id})."""
    stack = shared_stack()
    app_id = f"bench-{uuid.uuid4().hex[:10]}"
    response = httpx.patch(
        f"{stack.get('api_url')}/push/config/{app_id}",
        headers={"authorization": f"Bearer {stack.call('admin_token')}"},
        json={"enabled": True, **config},
        timeout=120,
    )
    response.raise_for_status()
    return app_id


def register(app_id: str, user_id: str, platform: str, token: Any) -> str:
    """Register a device through the registry (dedupe, sealing under KMS, device_count in
    one transaction), as a user of the app's user issuer (whose devices its jobs reach);
    run inside `environment(...)`."""
    from pushgate.devices.addresses import parse_push_token
    from pushgate.devices.service import upsert_device
    from pushgate.policy import load_trust
    from pushgate.settings import get_settings

    trust = load_trust(app_id)
    if trust is None or trust.user_issuer is None:
        raise RuntimeError(f"app {app_id} has no user issuer to register devices under")
    address = parse_push_token(platform, token, get_settings())  # type: ignore[arg-type]
    registration = upsert_device(
        app_id=app_id,
        user_id=user_id,
        platform=platform,  # type: ignore[arg-type]
        address=address,
        owner=trust.user_issuer,
        user_agent=None,
    )
    return registration.device_id


def receive_all(queue_url: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Receive `count` messages from a queue (uncounted: a bench's own plumbing)."""
    client = _plumbing_client("sqs")
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(messages)} of {count} messages arrived")
        response = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages += response.get("Messages") or []
    return messages


def receive(queue_url: str, count: int) -> list[dict[str, Any]]:
    """One ReceiveMessage of up to `count` (<= 10) messages, as Lambda's poller makes it."""
    response = _plumbing_client("sqs").receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=count,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages") or [])


def fresh_receipt_queue() -> str:
    """Point RECEIPT_QUEUE_URL at a new, empty queue (settings re-read; nothing else of the
    container forgotten) and return its URL."""
    from pushgate import settings

    url = _plumbing_client("sqs").create_queue(QueueName=f"bench-receipts-{uuid.uuid4().hex}")
    os.environ["RECEIPT_QUEUE_URL"] = url["QueueUrl"]
    settings.get_settings.cache_clear()
    return str(url["QueueUrl"])


def delete_queue(queue_url: str) -> None:
    _plumbing_client("sqs").delete_queue(QueueUrl=queue_url)


def delete_all(queue_url: str, messages: list[dict[str, Any]]) -> None:
    client = _plumbing_client("sqs")
    for start in range(0, len(messages), 10):
        client.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages[start : start + 10])
            ],
        )


def progress(message: str) -> None:
    """A progress line on stderr with BENCH_VERBOSE=1 (set-up can take a while)."""
    if os.environ.get("BENCH_VERBOSE", "") not in ("", "0"):
        import sys

        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sqs_event(messages: list[dict[str, Any]], queue_logical_id: str) -> dict[str, Any]:
    """Lambda's SQS event for `messages` (the local stack's own builder)."""
    arn = shared_stack().call("get_att", queue_logical_id, "Arn")
    return build_sqs_event(messages, arn, REGION)


_plumbing = threading.local()


def _plumbing_client(service_name: str) -> Any:
    """A boto3 client outside pushgate's (its own session: the request counter ignores it)."""
    clients = getattr(_plumbing, "clients", None)
    if clients is None:
        clients = _plumbing.clients = {}
    if service_name not in clients:
        import boto3

        stack = shared_stack()
        clients[service_name] = boto3.session.Session().client(
            service_name,
            endpoint_url=stack.get("aws_url"),
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        clients[service_name].meta.events.register("before-call", _mark_plumbing)
    return clients[service_name]


def _mark_plumbing(context: dict[str, Any], **_: Any) -> None:
    context["bench_plumbing"] = True


def time_call(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value
