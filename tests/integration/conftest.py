"""In-process tests against the local stack's AWS emulator, with pushgate's caches reset."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate import aws, sealing, settings
from pushgate.auth import tokens
from tests.standins import NtfyStandin


def _clear_caches() -> None:
    for cached in (settings.get_settings, sealing.get_cipher, tokens.get_verifier, aws.client):
        cached.cache_clear()


@pytest.fixture
def pushgate_env(aws_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment a function gets, with settings, clients and key caches rebuilt."""
    _clear_caches()
    yield aws_env
    _clear_caches()


@dataclass
class ManagedNtfy:
    """An ntfy stand-in set up as docs/configuration.md says, pushgate's settings pointing at
    it, and a cleanup queue of the test's own (no poller reads it: `take_removals()` does)."""

    ntfy: NtfyStandin
    queue_url: str
    sqs: Any

    def accounts(self) -> set[str]:
        return {user.username for user in self.ntfy.users() if user.username.startswith("pgu_")}

    def take_removals(self) -> list[SQSRecord]:
        """The removal requests queued so far, taken off the queue as the worker gets them."""
        records = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return records
            for message in messages:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
                records.append(SQSRecord({"body": message["Body"], "messageId": "m"}))


@pytest.fixture
def managed_ntfy(pushgate_env, monkeypatch) -> Iterator[ManagedNtfy]:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"ntfy-cleanup-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    with NtfyStandin(default_access="deny-all") as ntfy:
        admin_token, publish_token = ntfy.set_up_for_pushgate()
        monkeypatch.setenv("PUSHGATE_NTFY_URL", ntfy.url)
        monkeypatch.setenv("PUSHGATE_NTFY_ADMIN_TOKEN", admin_token)
        monkeypatch.setenv("PUSHGATE_NTFY_PUBLISH_TOKEN", publish_token)
        monkeypatch.setenv("NTFY_CLEANUP_QUEUE_URL", queue_url)
        settings.get_settings.cache_clear()
        yield ManagedNtfy(ntfy, queue_url, sqs)
    sqs.delete_queue(QueueUrl=queue_url)
