"""Process-wide Powertools logger, tracer and metrics, shared by every function."""

from __future__ import annotations

import logging
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# httpx logs every request URL at INFO; a URL can be a Web Push endpoint or an ntfy topic,
# which are credentials. Keep them out of the logs.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Every handler flushes its metrics (`log_metrics`), and most HTTP invocations (a config read,
# a registration) have none to flush: that is not worth a warning in the function's log.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

logger = Logger(service="pushgate")
tracer = Tracer(service="pushgate")
metrics = Metrics(namespace="Pushgate", service="pushgate")
