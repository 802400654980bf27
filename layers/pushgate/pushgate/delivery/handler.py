"""The deliver function's record handler: one SQS record is one delivery job."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from pushgate import clock
from pushgate.delivery.misconfiguration import reporter
from pushgate.delivery.service import deliver
from pushgate.delivery.tracing import record_job
from pushgate.notifications.models import DeliveryJob


async def handle_record(record: SQSRecord) -> None:
    """Raises only when the job must be retried (infrastructure) or is not a job at all
    (a bug: SQS retries it, then the DLQ keeps it for inspection)."""
    started = clock.epoch()
    job = DeliveryJob.model_validate_json(record.body)
    redelivered = int(record.attributes.approximate_receive_count or 1) > 1
    try:
        results = await deliver(job, redelivered=redelivered, record_id=record.message_id)
    except Exception as error:
        record_job(job, [], started=started, redelivered=redelivered, error=error)
        raise
    record_job(job, results, started=started, redelivered=redelivered)
    reporter.report(job.app_id, (result.outcome for result in results))
