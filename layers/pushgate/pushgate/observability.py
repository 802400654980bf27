"""Process-wide Powertools logger, tracer and metrics, shared by every function."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

# httpx logs every request URL at INFO; a URL can be a Web Push endpoint or an ntfy topic,
# which are credentials. Keep them out of the logs.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

logger = Logger(service="pushgate")
tracer = Tracer(service="pushgate")
metrics = Metrics(namespace="Pushgate", service="pushgate")
