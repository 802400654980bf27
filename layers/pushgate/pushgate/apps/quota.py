"""An app's daily quota: what its tenant set, within the cap its operator set."""

from __future__ import annotations

from pushgate.settings import Settings
from pushgate.storage.apps import App


def max_daily_quota(record: App | None, settings: Settings) -> int:
    """The most the app's daily_quota may be (an operator's setting, else the deployment's)."""
    if record is not None and record.max_daily_quota is not None:
        return record.max_daily_quota
    return settings.default_max_daily_quota


def enforced_daily_quota(record: App, settings: Settings) -> int:
    """What sends are counted against: the app's daily_quota, within its cap."""
    quota = record.daily_quota if record.daily_quota is not None else settings.default_daily_quota
    return min(quota, max_daily_quota(record, settings))
