"""The ntfy cleanup worker's record handler: one SQS record is one removal request."""

from __future__ import annotations

import asyncio

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate.managed_ntfy import removals, service
from pushgate.managed_ntfy.removals import RemovalRequest
from pushgate.observability import logger


async def handle_record(record: SQSRecord) -> None:
    """Raises when the removal must be tried again (the ntfy server or a table failed): SQS
    redelivers it, and after its last try the DLQ keeps it and its alarm fires."""
    request = RemovalRequest.model_validate_json(record.body)
    if request.channel_key is not None:
        await asyncio.to_thread(service.remove_one, request.channel_key)
        return
    before = request.before or ""
    removed, more = await asyncio.to_thread(service.remove_of_app, request.app_id, before=before)
    logger.info(
        "ntfy channels removed", extra={"app_id": request.app_id, "channels": removed, "more": more}
    )
    if more:  # the rest in a message of its own, with the whole budget again
        await asyncio.to_thread(removals.request_removal, request.app_id, before=before)
