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
# What X-Ray traces (in Lambda; Powertools' Tracer is off elsewhere): the AWS calls, through
# botocore (PynamoDB goes through it too). Not httpx, which patch_all would include: every
# provider request and webhook receipt would become a subsegment recording its URL (a Web Push
# endpoint or an ntfy topic is a credential) and send X-Amzn-Trace-Id to push services and
# tenants, and a 1,000-message fan-out would cost 1,000 subsegments of CPU. The deliver
# function traces each job instead, with sanitised annotations (pushgate.delivery.tracing).
PATCHED_MODULES = ("botocore",)
tracer = Tracer(service="pushgate", patch_modules=PATCHED_MODULES)
metrics = Metrics(namespace="Pushgate", service="pushgate")
