"""Receipts function: posts delivery receipts to tenant webhooks, signed, with retries."""

from __future__ import annotations

# First, before anything loads pydantic: see pushgate.worker.
from pushgate.worker import create_sqs_handler

# isort: split
from pushgate.receipts.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
