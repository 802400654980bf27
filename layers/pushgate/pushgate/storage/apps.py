"""The Apps table: one item per tenant app (and, later, per enrolled gateway instance).

Access patterns: get/update by `app_id`; `device_count` is maintained with atomic ADDs by the
device registry, so nothing here may write the whole item back (updates name their fields).
"""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class AppRecord(Model):
    Meta = table_meta("apps_table_name")

    app_id = UnicodeAttribute(hash_key=True)
    enabled = BooleanAttribute(default=False)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret_sealed = UnicodeAttribute(null=True)
    daily_quota = NumberAttribute()
    vapid_subject = UnicodeAttribute(null=True)
    vapid_public_key = UnicodeAttribute(null=True)
    vapid_private_key_sealed = UnicodeAttribute(null=True)
    fcm_service_account_sealed = UnicodeAttribute(null=True)
    fcm_project_id = UnicodeAttribute(null=True)
    device_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
