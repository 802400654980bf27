"""Approval timeouts function: expires each approval request still pending when its
timeout (an SQS delay) runs out, and reports every outcome not yet reported."""

from __future__ import annotations

# First, before anything loads pydantic: see pushgate.worker.
from pushgate.worker import create_sqs_handler

# isort: split
from pushgate.approvals.handler import handle_record

lambda_handler = create_sqs_handler(handle_record)
