"""An app's delivery statistics: the final outcomes of each recent UTC hour, as the deliver
function counts them (`pushgate.delivery.tally`)."""

from __future__ import annotations

from pushgate import clock
from pushgate.apps.models import AppStatsResponse, HourOutcomes
from pushgate.auth import SCOPE_CONFIG, Principal
from pushgate.errors import NotFoundError
from pushgate.policy import require_app_access
from pushgate.storage import apps, delivery_stats

MAX_HOURS = 48  # the counters are kept for three days


def recent_hours(hours: int, moment: float | None = None) -> list[str]:
    """The last `hours` UTC hours, oldest first, ending with the one holding `moment`."""
    current = clock.hour_start(moment)
    return [clock.utc_hour(current - 3600 * back) for back in range(hours - 1, -1, -1)]


def app_stats(principal: Principal, app_id: str, *, hours: int) -> AppStatsResponse:
    """Exactly `hours` entries, zeros where nothing ended; one BatchGetItem."""
    trust = require_app_access(principal, app_id, SCOPE_CONFIG)
    if trust is None and apps.get(app_id, fields=["app_id"]) is None:
        raise NotFoundError(f"app {app_id} does not exist")
    wanted = recent_hours(hours)
    counted = delivery_stats.read(app_id, wanted)
    return AppStatsResponse(
        app_id=app_id,
        hours=[HourOutcomes(hour=hour, **counted.get(hour, {})) for hour in wanted],
    )
