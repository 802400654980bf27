"""Receipts function: posts delivery receipts to tenant webhooks, signed, with retries."""

from __future__ import annotations

from pushgate.api import create_sqs_handler
from pushgate.webhooks.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
