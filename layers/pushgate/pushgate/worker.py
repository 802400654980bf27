"""The entry point of every SQS-triggered function (deliver, receipts).

Kept apart from `pushgate.api` so a worker never imports the HTTP router, its OpenAPI
machinery or the token verifier, and an HTTP function never imports the batch processor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Imported before anything imports pydantic (this is the first import of every worker):
# Powertools' batch module loads all its parser models (SQS, Kinesis, Kafka, DynamoDB streams:
# ~10% of the deliver function's import time) when pydantic is already loaded, and the
# workers here never use them.
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from pushgate import snapstart
from pushgate.observability import logger, metrics, tracer


def create_sqs_handler(
    record_handler: Callable[[Any], Any],
) -> Callable[[dict[str, Any], LambdaContext], dict]:
    """The Lambda entry point for an SQS-triggered function: records processed concurrently
    by an async handler, partial batch failures reported so only failed records return."""
    processor = AsyncBatchProcessor(event_type=EventType.SQS)
    snapstart.install()

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict:
        return async_process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return lambda_handler
