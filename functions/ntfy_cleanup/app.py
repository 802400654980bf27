"""Ntfy cleanup function: removes managed ntfy channels in the background (every channel of a
disabled app, the channel whose device was deleted), retried by SQS."""

from __future__ import annotations

# First, before anything loads pydantic: see pushgate.worker.
from pushgate.worker import create_sqs_handler

# isort: split
from pushgate.managed_ntfy.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
