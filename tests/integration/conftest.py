"""In-process tests against the local stack's AWS emulator, with pushgate's caches reset."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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
class OwnQueue:
    """A queue of the test's own that a setting points at instead of the stack's: no poller
    reads it, `take()` does, as the worker would get its records."""

    url: str
    sqs: Any

    def take(self) -> list[SQSRecord]:
        """What was queued so far (delays included: each is waited out), taken off."""
        records = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            messages = answer.get("Messages", [])
            if not messages:
                return records
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                records.append(SQSRecord({"body": message["Body"], "messageId": "m"}))


@pytest.fixture
def own_queue(pushgate_env, monkeypatch) -> Iterator[Callable[[str], OwnQueue]]:
    """`own_queue("NTFY_CLEANUP_QUEUE_URL")`: a new queue, and that setting pointed at it."""
    sqs = aws.client("sqs")
    made: list[str] = []

    def make(setting: str) -> OwnQueue:
        url = sqs.create_queue(QueueName=f"own-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        made.append(url)
        monkeypatch.setenv(setting, url)
        settings.get_settings.cache_clear()
        return OwnQueue(url, sqs)

    yield make
    for url in made:
        sqs.delete_queue(QueueUrl=url)


@dataclass
class ManagedNtfy:
    """An ntfy stand-in set up as docs/managed-ntfy.md says, pushgate's settings pointing at
    it, and the cleanup queue the test's own."""

    ntfy: NtfyStandin
    removals: OwnQueue

    def accounts(self) -> set[str]:
        return {user.username for user in self.ntfy.users() if user.username.startswith("pgu_")}

    def take_removals(self) -> list[SQSRecord]:
        return self.removals.take()


@pytest.fixture
def managed_ntfy(own_queue, monkeypatch) -> Iterator[ManagedNtfy]:
    removals = own_queue("NTFY_CLEANUP_QUEUE_URL")
    with NtfyStandin(default_access="deny-all") as ntfy:
        admin_token, publish_token = ntfy.set_up_for_pushgate()
        monkeypatch.setenv("PUSHGATE_NTFY_URL", ntfy.url)
        monkeypatch.setenv("PUSHGATE_NTFY_ADMIN_TOKEN", admin_token)
        monkeypatch.setenv("PUSHGATE_NTFY_PUBLISH_TOKEN", publish_token)
        settings.get_settings.cache_clear()
        yield ManagedNtfy(ntfy, removals)
