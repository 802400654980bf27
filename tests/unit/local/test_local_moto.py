"""The emulator's moto speed-ups answer what moto answers: GSI queries served from an index
(same items, order and pages as moto's scan, fresh after writes) and lazy queue attributes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from local.emulator import operation_name

USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def devices(aws_client: Callable[[str], Any]) -> Any:
    """template.yaml's DevicesTable (by_app, by_user) with devices of three users in two apps,
    one of them without the by_user range key (DynamoDB leaves it out of that index)."""
    dynamodb = aws_client("dynamodb")
    dynamodb.create_table(
        TableName="devices",
        KeySchema=[{"AttributeName": "device_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("device_id", "app_id", "user_id", "app_device")
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_app",
                "KeySchema": [
                    {"AttributeName": "app_id", "KeyType": "HASH"},
                    {"AttributeName": "device_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by_user",
                "KeySchema": [
                    {"AttributeName": "user_id", "KeyType": "HASH"},
                    {"AttributeName": "app_device", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )
    for index in range(60):
        app_id, user_id = f"app{index % 2}", USERS[index % 3]
        item = {
            "device_id": {"S": f"dev{(index * 37) % 101:03d}"},
            "app_id": {"S": app_id},
            "user_id": {"S": user_id},
            "seen": {"N": str(1000 - index)},
        }
        if index != 7:
            item["app_device"] = {"S": f"{app_id}#{item['device_id']['S']}"}
        dynamodb.put_item(TableName="devices", Item=item)
    return dynamodb


QUERIES = [
    {
        "IndexName": "by_user",
        "KeyConditionExpression": "user_id = :u AND begins_with(app_device, :a)",
        "ExpressionAttributeValues": {":u": {"S": "alice"}, ":a": {"S": "app1#"}},
    },
    {
        "IndexName": "by_user",
        "KeyConditionExpression": "user_id = :u",
        "ExpressionAttributeValues": {":u": {"S": "bob"}},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {
        "IndexName": "by_app",
        "KeyConditionExpression": "app_id = :a",
        "ExpressionAttributeValues": {":a": {"S": "app0"}, ":min": {"N": "980"}},
        "FilterExpression": "seen > :min",
    },
    {
        "IndexName": "by_user",
        "KeyConditionExpression": "user_id = :u",
        "ExpressionAttributeValues": {":u": {"S": "nobody"}},
    },
]


def _pages(dynamodb: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb.query(TableName="devices", **query, **extra)
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _moto_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to moto's own Table.query (a scan of the table) for the rest of the test."""
    from moto.dynamodb.models.table import Table

    monkeypatch.setattr(Table, "query", Table.query.__wrapped__)


@pytest.mark.parametrize("query", QUERIES, ids=["begins_with", "desc_paged", "filter", "none"])
def test_gsi_index_pages_equal_moto_scan(
    devices: Any, query: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed = _pages(devices, query)
    _moto_scan(monkeypatch)
    assert indexed == _pages(devices, query)


def test_gsi_index_sees_writes(devices: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    query = QUERIES[1] | {"Limit": 100}
    before = _pages(devices, query)
    # Given a device moved to bob (in-place update), one added and one deleted
    devices.update_item(
        TableName="devices",
        Key={"device_id": {"S": "dev000"}},
        UpdateExpression="SET user_id = :b",
        ExpressionAttributeValues={":b": {"S": "bob"}},
    )
    devices.put_item(
        TableName="devices",
        Item={
            "device_id": {"S": "dev999"},
            "app_id": {"S": "app0"},
            "user_id": {"S": "bob"},
            "app_device": {"S": "app0#dev999"},
        },
    )
    moved_away = before[0]["Items"][0]["device_id"]
    devices.transact_write_items(
        TransactItems=[{"Delete": {"TableName": "devices", "Key": {"device_id": moved_away}}}]
    )
    after = _pages(devices, query)
    _moto_scan(monkeypatch)
    assert after == _pages(devices, query)
    ids = {item["device_id"]["S"] for item in after[0]["Items"]}
    assert {"dev000", "dev999"} <= ids
    assert moved_away["S"] not in ids


def test_queue_attributes_equal_moto_attributes(aws_client: Callable[[str], Any]) -> None:
    from moto.sqs.models import Queue, sqs_backends

    sqs = aws_client("sqs")
    dead = sqs.create_queue(QueueName="dead.fifo", Attributes={"FifoQueue": "true"})
    arn = sqs.get_queue_attributes(QueueUrl=dead["QueueUrl"], AttributeNames=["QueueArn"])
    url = sqs.create_queue(
        QueueName="work.fifo",
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
            ),
        },
    )["QueueUrl"]
    for _ in range(2):  # content-based deduplication: the second is the first
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")

    queue = sqs_backends["123456789012"]["us-east-1"].get_queue("work.fifo")
    assert queue.attributes.get("ContentBasedDeduplication") == "true"
    assert dict(queue.attributes) == Queue.moto_attributes.fget(queue)
    answered = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert answered["ApproximateNumberOfMessages"] == "1"
    assert answered["ContentBasedDeduplication"] == "true"


def test_operation_name_reads_json_and_query_protocols() -> None:
    auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, x"
    assert operation_name(
        {"HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b""
    ) == ("dynamodb.Query")
    sqs_auth = auth.replace("/dynamodb/", "/sqs/")
    assert operation_name({"HTTP_AUTHORIZATION": sqs_auth}, b"Action=SendMessage&x=1") == (
        "sqs.SendMessage"
    )
    assert operation_name({"REQUEST_METHOD": "GET"}, b"") == "unknown.GET"
