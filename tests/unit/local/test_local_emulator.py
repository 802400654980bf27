"""The emulator keeps DynamoDB updates atomic under concurrency and SQS long polls cheap."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

LIMIT = 20


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Switch threads far more often than usual so an unguarded read-modify-write in moto
    interleaves (with the default interval it races only now and then)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("eager_thread_switching")
def test_emulator_keeps_conditional_updates_atomic(aws_client: Callable[[str], Any]) -> None:
    dynamodb = aws_client("dynamodb")
    dynamodb.create_table(
        TableName="counters",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def take_one(_: int) -> str:
        try:
            dynamodb.update_item(
                TableName="counters",
                Key={"k": {"S": "quota"}},
                UpdateExpression="ADD n :one",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(LIMIT)}},
            )
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "granted"

    with ThreadPoolExecutor(32) as executor:
        outcomes = list(executor.map(take_one, range(100)))
    item = dynamodb.get_item(TableName="counters", Key={"k": {"S": "quota"}})["Item"]
    assert outcomes.count("granted") == LIMIT
    assert set(outcomes) == {"granted", "ConditionalCheckFailedException"}
    assert item["n"] == {"N": str(LIMIT)}


def test_emulator_long_poll_returns_when_a_message_arrives(
    aws_client: Callable[[str], Any],
) -> None:
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="late")).start()
    started = time.monotonic()
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
    assert [message["Body"] for message in messages] == ["late"]
    # Well before the 20 s wait ends; the slack is for a loaded CI machine (seen: 4.6 s).
    assert time.monotonic() - started < 10


def test_emulator_serves_other_requests_during_a_long_poll(
    aws_client: Callable[[str], Any],
) -> None:
    sqs, other = aws_client("sqs"), aws_client("sqs")
    url = sqs.create_queue(QueueName="idle")["QueueUrl"]
    poll = threading.Thread(target=lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=8))
    poll.start()
    time.sleep(0.2)
    started = time.monotonic()
    other.list_queues()
    assert time.monotonic() - started < 4  # not held up by the 8 s poll
    poll.join()
