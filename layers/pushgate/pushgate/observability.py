"""Process-wide Powertools logger, tracer and metrics, shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="pushgate")
tracer = Tracer(service="pushgate")
metrics = Metrics(namespace="Pushgate", service="pushgate")
