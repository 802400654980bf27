"""Broadcast fan-out function: takes one page of a broadcast's devices per message, reserves
their quota, queues their delivery jobs and then the next page."""

from __future__ import annotations

# First, before anything loads pydantic: see pushgate.worker.
from pushgate.worker import create_sqs_handler

# isort: split
from pushgate.broadcasts.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
