"""The receipts function's record handler: one SQS record is one receipt to post."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate.receipts.models import ReceiptMessage
from pushgate.receipts.service import deliver_receipt


async def handle_record(record: SQSRecord) -> None:
    """Raises only when the record must come back (queueing failed) or is not a receipt."""
    await deliver_receipt(ReceiptMessage.model_validate_json(record.body))
