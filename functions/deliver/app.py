"""Deliver function: SQS delivery jobs to FCM, Web Push and ntfy, partial failures reported."""

from __future__ import annotations

from pushgate.api import create_sqs_handler
from pushgate.delivery.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
