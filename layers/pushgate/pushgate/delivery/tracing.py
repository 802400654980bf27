"""One X-Ray subsegment per delivery job, annotated with counts and the app id only: never an
endpoint, token or URL (the provider requests themselves are not traced at all; see
`pushgate.observability`).

The subsegment is recorded when the job is done, with the job's start time. The records of a
batch run concurrently on one thread, and X-Ray's Lambda context keeps open subsegments on a
per-thread stack: one held open across an `await` would adopt the other jobs' subsegments as
children and be closed by them. Recorded without an `await` in between, each lands whole.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Sequence

from pushgate.delivery.service import DeviceResult
from pushgate.notifications.models import DeliveryJob
from pushgate.observability import tracer

SUBSEGMENT = "## delivery job"
OUTCOMES = ("delivered", "failed", "invalid_token", "expired", "retrying")


def job_annotations(
    job: DeliveryJob, results: Sequence[DeviceResult], *, redelivered: bool
) -> dict[str, str | int | bool]:
    """What a job's subsegment is searchable by: its app, its size and its outcomes."""
    counts = Counter(result.final or "retrying" for result in results)
    return {
        "app_id": job.app_id,
        "attempt": job.attempt,
        "redelivered": redelivered,
        "devices": len(results),
        **{outcome: counts[outcome] for outcome in OUTCOMES},
    }


def record_job(
    job: DeliveryJob,
    results: Sequence[DeviceResult],
    *,
    started: float,
    redelivered: bool,
    error: Exception | None = None,
) -> None:
    """Record the job's subsegment from `started` (epoch seconds) until now; `error` is what
    made it fail (then its results are unknown and the counts are zero)."""
    with tracer.provider.in_subsegment(SUBSEGMENT) as subsegment:
        if subsegment is None:  # no segment to attach to (outside an invocation)
            return
        subsegment.start_time = started
        for key, value in job_annotations(job, results, redelivered=redelivered).items():
            subsegment.put_annotation(key, value)
        if error is not None:
            subsegment.add_exception(error, traceback.extract_tb(error.__traceback__))
