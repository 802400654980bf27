"""Deliveries a push service refused because of how the app is set up (its VAPID key or
subject), told to operators: a metric for every refusal and, per container, at most one log
line per app per hour, however many devices the app has.

The refusals themselves are ordinary `failed` outcomes (never retried, never a removed
device); this only makes them visible. Memory is bounded: the apps logged recently are kept
in order of logging, and the oldest are forgotten past `MAX_REMEMBERED_APPS` (an app
forgotten early may log a second line within its hour, nothing worse).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from pushgate.observability import logger, metrics
from pushgate.providers import Outcome
from pushgate.providers.webpush import VAPID_REJECTED

METRIC = "WebPushVapidRejected"
LOG_INTERVAL_SECONDS = 3600.0
MAX_REMEMBERED_APPS = 1024


class MisconfigurationReporter:
    """Counts VAPID refusals and logs them once per app per `interval` seconds."""

    def __init__(
        self,
        *,
        interval: float = LOG_INTERVAL_SECONDS,
        capacity: int = MAX_REMEMBERED_APPS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._capacity = capacity
        self._now = now
        self._logged: OrderedDict[str, float] = OrderedDict()

    def report(self, app_id: str, outcomes: Iterable[Outcome]) -> None:
        """Report the refusals among one job's `outcomes` (all of app `app_id`)."""
        errors = [o.error for o in outcomes if _is_vapid_rejection(o.error)]
        if not errors:
            return
        metrics.add_metric(name=METRIC, unit="Count", value=len(errors))
        now = self._now()
        logged_at = self._logged.get(app_id)
        if logged_at is not None and now - logged_at < self._interval:
            return
        self._logged.pop(app_id, None)
        self._logged[app_id] = now
        while len(self._logged) > self._capacity:
            self._logged.popitem(last=False)
        logger.error(
            "a push service refused the app's VAPID credentials: check its vapid_subject (a "
            "real mailto: address or https: URL) and VAPID key; its Web Push deliveries fail "
            "until then (logged once an hour per app and container)",
            extra={"app_id": app_id, "error": errors[0], "refused": len(errors)},
        )

    def remembered(self) -> int:
        return len(self._logged)


def _is_vapid_rejection(error: str | None) -> bool:
    return error is not None and (error == VAPID_REJECTED or error.startswith(VAPID_REJECTED + ":"))


# One per container, like every other cache the deliver function keeps.
reporter = MisconfigurationReporter()
