"""The deliver invocation's receipt outbox against the emulator's SQS: receipts of all jobs go
out together after the batch, and a job whose receipts cannot be queued is handed back."""

from __future__ import annotations

import uuid

import pytest

from pushgate import aws, settings
from pushgate.delivery import outbox


@pytest.fixture
def queue_url(pushgate_env, monkeypatch) -> str:
    """A fresh receipt queue for this test (the stack's is shared with other tests)."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"receipts-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    monkeypatch.setenv("RECEIPT_QUEUE_URL", url)
    settings.get_settings.cache_clear()
    yield url
    sqs.delete_queue(QueueUrl=url)
    settings.get_settings.cache_clear()


def _batch_handler(receipts: dict[str, list[str]], failed: list[str]):
    """An SQS batch handler whose records each leave receipts in the outbox, and which
    reports `failed` as its own failures."""

    def handler(event, context):
        collecting = outbox.current()
        assert collecting is not None
        for record_id, bodies in receipts.items():
            collecting.add(record_id, bodies)
        return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}

    return handler


def _drain(url: str) -> list[str]:
    sqs, bodies = aws.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [message["Body"] for message in messages]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages],
        )
    return bodies


def test_outbox_queues_every_jobs_receipts_after_the_batch(queue_url):
    receipts = {f"record-{n}": [f'{{"n": {n}, "device": {d}}}' for d in range(2)] for n in range(7)}
    handler = outbox.collecting_receipts(_batch_handler(receipts, failed=["record-x"]))

    response = handler({"Records": []}, None)

    assert response == {"batchItemFailures": [{"itemIdentifier": "record-x"}]}
    assert sorted(_drain(queue_url)) == sorted(b for bodies in receipts.values() for b in bodies)
    assert outbox.current() is None


def test_outbox_hands_back_the_jobs_whose_receipts_could_not_be_queued(queue_url, monkeypatch):
    monkeypatch.setenv("RECEIPT_QUEUE_URL", queue_url + "-gone")
    settings.get_settings.cache_clear()
    handler = outbox.collecting_receipts(
        _batch_handler({"record-1": ["{}"], "record-2": ["{}", "{}"]}, failed=["record-2"])
    )

    response = handler({"Records": []}, None)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "record-2"}, {"itemIdentifier": "record-1"}]
    }


def test_outbox_is_not_flushed_when_the_batch_handler_raises(queue_url):
    def crashing(event, context):
        outbox.current().add("record-1", ['{"lost": false}'])
        raise RuntimeError("the whole batch goes back to SQS")

    with pytest.raises(RuntimeError):
        outbox.collecting_receipts(crashing)({"Records": []}, None)

    assert _drain(queue_url) == []
    assert outbox.current() is None
