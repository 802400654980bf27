"""Deliver function: SQS delivery jobs to FCM, Web Push and ntfy, partial failures reported."""

from __future__ import annotations

# First, before anything loads pydantic: see pushgate.worker.
from pushgate.worker import create_sqs_handler

# isort: split
from pushgate.delivery.faults import crash_injecting
from pushgate.delivery.handler import handle_record
from pushgate.delivery.outbox import collecting_receipts
from pushgate.delivery.tally import tallying_outcomes

# crash_injecting is a local-stack test hook (PUSHGATE_FAULT_CRASH_RATE); a pass-through in AWS.
lambda_handler = crash_injecting(
    collecting_receipts(tallying_outcomes(create_sqs_handler(handle_record)))
)
