"""Hourly delivery outcomes per app: how many deliveries ended delivered, failed,
invalid_token or expired in each UTC hour. They live in the Counters table (keys
`stats#<app_id>#<hour>`, the hour as `YYYY-MM-DDTHH:00:00Z`), added to with one atomic ADD per
app and hour, and expire through TTL three days after their hour ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from pushgate.storage.base import table_meta

OUTCOMES = ("delivered", "failed", "invalid_token", "expired")
RETENTION_SECONDS = 3 * 86_400


class HourlyOutcomesRecord(Model):
    """The item (storage only)."""

    Meta = table_meta("counters_table_name")

    counter_key = UnicodeAttribute(hash_key=True)  # stats#<app_id>#<hour>
    delivered = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    invalid_token = NumberAttribute(null=True)
    expired = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


def stats_key(app_id: str, hour: str) -> str:
    return f"stats#{app_id}#{hour}"


def add(app_id: str, hour: str, counts: Mapping[str, int], *, expires_at: int) -> bool:
    """Add `counts` (outcome -> number) to the app's hour in one UpdateItem. False when the
    write failed: statistics are best effort, and the caller's deliveries stand either way."""
    actions = [
        getattr(HourlyOutcomesRecord, outcome).add(number)
        for outcome, number in sorted(counts.items())
        if outcome in OUTCOMES and number
    ]
    if not actions:
        return True
    actions.append(HourlyOutcomesRecord.expires_at.set(expires_at))
    try:
        HourlyOutcomesRecord(stats_key(app_id, hour)).update(actions=actions)
    except PynamoDBException:
        return False
    return True


def read(app_id: str, hours: Sequence[str]) -> dict[str, dict[str, int]]:
    """The outcomes counted in each of `hours` that has any (one BatchGetItem per 100)."""
    keys = {stats_key(app_id, hour): hour for hour in hours}
    if not keys:
        return {}
    found: dict[str, dict[str, int]] = {}
    for record in HourlyOutcomesRecord.batch_get(sorted(keys)):
        found[keys[record.counter_key]] = {
            outcome: int(getattr(record, outcome) or 0) for outcome in OUTCOMES
        }
    return found
