"""The Counters table: quota and rate-limit counters, each expiring through TTL.

Keys: `quota#<app_id>#<YYYY-MM-DD>` counts an app's notifications for one UTC day.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class CounterRecord(Model):
    Meta = table_meta("counters_table_name")

    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


def daily_quota_key(app_id: str, day: str) -> str:
    return f"quota#{app_id}#{day}"


def read_count(key: str) -> int:
    """A counter's current value (0 when it does not exist or has expired)."""
    try:
        return int(CounterRecord.get(key, attributes_to_get=["count"]).count)
    except CounterRecord.DoesNotExist:
        return 0
