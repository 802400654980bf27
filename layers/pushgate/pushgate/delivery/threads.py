"""The threads the deliver function's blocking calls (boto3, PynamoDB) run on.

`asyncio.to_thread` runs on the event loop's default executor, which asyncio sizes
min(32, CPUs + 4): 5 threads in a Lambda function with one vCPU, 6 with two. A batch of ten
jobs issues ten device queries together, then ten outcome writes: with 5 threads they go in
two rounds, and the invocation waits for AWS twice as long as it needs to. So each event loop
that delivers gets a default executor of its own with a thread for every call a full batch
can have in flight (botocore's connection pools are sized to match: `pushgate.aws`,
`pushgate.storage.base`).
"""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor

# SQS BatchSize (10) jobs, each with at most one blocking call of its own in flight and up to
# two more for its devices' sends (first-use KMS calls of the dispatch path), with room.
WORKERS = 32

_configured: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def use_delivery_threads() -> None:
    """Give the running event loop an executor of WORKERS threads, once per loop (Lambda
    keeps one loop per container; a test's fresh loop gets a fresh executor, which
    `asyncio.run` shuts down with the loop)."""
    loop = asyncio.get_running_loop()
    if loop in _configured:
        return
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pushgate-deliver")
    )
    _configured.add(loop)
