"""The operators' view of every app: a page at a time, with each app's usage."""

from __future__ import annotations

import re

from pushgate import clock
from pushgate.apps.models import APP_ID_PATTERN, AppsPageResponse, AppSummary
from pushgate.auth import Principal
from pushgate.policy import require_admin
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage.counters import daily_quota_key, read_counts
from pushgate.storage.cursors import decode_cursor, encode_cursor

_APP_ID = re.compile(APP_ID_PATTERN)
_CURSOR_KIND = "a"
_LISTED_FIELDS = (
    "enabled",
    "suspended",
    "daily_quota",
    "device_count",
    "created_at",
    "updated_at",
)


def list_apps(principal: Principal, *, limit: int, cursor: str | None) -> AppsPageResponse:
    """One page of every app (admins only). The counts are the maintained counters: one
    BatchGetItem for the page's notifications today, never a scan of devices."""
    require_admin(principal)
    after = decode_cursor(cursor, _CURSOR_KIND, _APP_ID) if cursor is not None else None
    page, last = apps.page(limit=limit, after=after, fields=_LISTED_FIELDS)
    day = clock.utc_day()
    today = read_counts(daily_quota_key(app.app_id, day) for app in page)
    default_quota = get_settings().default_daily_quota
    return AppsPageResponse(
        apps=[
            AppSummary(
                app_id=app.app_id,
                enabled=app.enabled,
                suspended=app.suspended,
                daily_quota=app.daily_quota or default_quota,
                device_count=app.device_count,
                notifications_today=today[daily_quota_key(app.app_id, day)],
                created_at=app.created_at,
                updated_at=app.updated_at,
            )
            for app in page
        ],
        next_cursor=encode_cursor(_CURSOR_KIND, last) if last is not None else None,
    )
