"""The approval timeout worker's record handler: one SQS record is one approval's timeout."""

from __future__ import annotations

import asyncio

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate.approvals import service
from pushgate.approvals.models import ApprovalTimeout


async def handle_record(record: SQSRecord) -> None:
    """Raises when the outcome could not be reported: SQS delivers the record again, and
    after its last try the DLQ keeps it and its alarm fires."""
    timeout = ApprovalTimeout.model_validate_json(record.body)
    await asyncio.to_thread(service.expire_due, timeout.approval_id)
