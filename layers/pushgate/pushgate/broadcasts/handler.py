"""The fan-out worker's record handler: one SQS record is one page of one broadcast."""

from __future__ import annotations

import asyncio

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate.broadcasts import fanout
from pushgate.broadcasts.models import BroadcastPage


async def handle_record(record: SQSRecord) -> None:
    """Raises when the page's jobs or the next page could not be queued: SQS delivers the
    record again (the page is committed once), and after its last try the DLQ keeps it."""
    page = BroadcastPage.model_validate_json(record.body)
    await asyncio.to_thread(fanout.fan_out, page)
