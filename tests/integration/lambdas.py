"""Running a function of template.yaml in this process, the way Lambda calls it: its real
`lambda_handler` with an SQS event, against the local stack's emulator."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pushgate import aws, outbound, settings
from pushgate.delivery import app_keys, runtime

REPO = Path(__file__).resolve().parents[2]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def load_handler(function: str) -> Handler:
    """`functions/<function>/app.py`'s `lambda_handler`, imported under a unique name."""
    path = REPO / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"test_{function}_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def sqs_event(bodies: Sequence[str]) -> dict[str, Any]:
    """An SQS event of one record per body, each received for the first time."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def fresh_container() -> None:
    """Forget what a warm container keeps: settings, the shared client, delivery's runtime
    and app cache (the next invocation reads the environment as a cold one would)."""
    settings.get_settings.cache_clear()
    aws.client.cache_clear()
    outbound.client.cache_clear()
    runtime._runtimes.clear()
    app_keys.clear()


def fresh_queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """For a fixture: fresh delivery and receipt queues (the stack's are polled by its own
    functions) as DELIVERY_QUEUE_URL and RECEIPT_QUEUE_URL, in a fresh container."""
    sqs = aws.client("sqs")
    urls = {
        name: sqs.create_queue(QueueName=f"{name.lower()}-{uuid.uuid4().hex[:10]}")["QueueUrl"]
        for name in ("DELIVERY_QUEUE_URL", "RECEIPT_QUEUE_URL")
    }
    for name, url in urls.items():
        monkeypatch.setenv(name, url)
    fresh_container()
    yield urls
    fresh_container()
    for url in urls.values():
        sqs.delete_queue(QueueUrl=url)


def drain(url: str, *, wait_seconds: int = 0) -> list[str]:
    """Every message body on the queue, waiting up to `wait_seconds` for the first."""
    sqs, bodies = aws.client("sqs"), []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0 if bodies else wait_seconds
        ).get("Messages", [])
        if not messages:
            return bodies
        bodies += [message["Body"] for message in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages],
        )
