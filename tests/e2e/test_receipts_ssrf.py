"""Receipts under production URL rules: the webhook's address is checked when sending."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.standins.webhook import WebhookReceiver

pytestmark = pytest.mark.e2e


def test_receipts_webhook_rebound_to_loopback_dead_letters_with_reason(strict_api):
    stack = strict_api.stack
    with WebhookReceiver() as receiver:
        name = f"hooks-{uuid.uuid4().hex[:8]}.example"
        stack.hosts_file.write_text(json.dumps({name: ["93.184.216.34"]}))
        app_id = strict_api.new_app(webhook_url=f"https://{name}:{receiver.port}/r")
        stack.hosts_file.write_text(json.dumps({name: ["127.0.0.1"]}))  # rebinding
        sqs = stack.client("sqs")
        env = stack.environment()
        receipt = {
            "notification_id": "ntf_" + "0" * 26,
            "user_id": "u",
            "device_id": "dev_" + "a" * 32,
            "app_id": app_id,
            "platform": "web",
            "status": "delivered",
            "error": None,
            "timestamp": "2026-11-22T06:00:00.000Z",
        }
        sqs.send_message(
            QueueUrl=env["RECEIPT_QUEUE_URL"], MessageBody=json.dumps({"receipt": receipt})
        )
        dlq = (
            env["RECEIPT_DLQ_URL"]
            if "RECEIPT_DLQ_URL" in env
            else stack.environment("ReceiptsFunction")["RECEIPT_DLQ_URL"]
        )
        deadline = time.monotonic() + 30
        messages = []
        while not messages:
            assert time.monotonic() < deadline, "the receipt did not reach the DLQ"
            messages = sqs.receive_message(
                QueueUrl=dlq, MessageAttributeNames=["All"], WaitTimeSeconds=1
            ).get("Messages", [])
        # Queued without `type` (as before approval receipts existed), read as a delivery
        # receipt, and dead-lettered as what it was read as.
        assert json.loads(messages[0]["Body"])["receipt"] == receipt | {"type": "delivery"}
        reason = messages[0]["MessageAttributes"]["reason"]["StringValue"]
        assert "private" in reason
        assert receiver.received() == ()
