"""The Apps table: one item per tenant app, and one per enrolled gateway instance.

Keys: `<app_id>` for apps (a gateway instance's tenant app is `takos:<tenant>`);
`instance#<name>` for gateway-instance enrolments (app ids cannot contain `#`).
Access patterns: get/update by key; `device_count` is maintained with atomic ADDs by the
device registry, so nothing here may write the whole item back (updates name their fields).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class AppRecord(Model):
    Meta = table_meta("apps_table_name")

    app_id = UnicodeAttribute(hash_key=True)
    enabled = BooleanAttribute(default=False)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret_sealed = UnicodeAttribute(null=True)
    # After a rotation the old secret still signs receipts for 24 h.
    webhook_previous_secret_sealed = UnicodeAttribute(null=True)
    webhook_secret_rotated_at = NumberAttribute(null=True)
    # Set when the receiver answered 410 Gone; cleared when a webhook_url is set again.
    webhook_disabled_at = UnicodeAttribute(null=True)
    webhook_disabled_reason = UnicodeAttribute(null=True)
    daily_quota = NumberAttribute()
    max_daily_quota = NumberAttribute(null=True)  # absent: the deployment's default cap
    suspended = BooleanAttribute(null=True)  # the operator's kill switch
    # Who the app trusts (see pushgate.policy): the issuer it was created with (absent for
    # apps pushgate creates and apps older than the field), further issuers of service tokens,
    # and the issuer whose users `user_id` names.
    issuer = UnicodeAttribute(null=True)
    service_issuers = ListAttribute(of=UnicodeAttribute, null=True)
    user_issuer = UnicodeAttribute(null=True)
    vapid_subject = UnicodeAttribute(null=True)
    vapid_public_key = UnicodeAttribute(null=True)
    vapid_private_key_sealed = UnicodeAttribute(null=True)
    fcm_service_account_sealed = UnicodeAttribute(null=True)
    fcm_project_id = UnicodeAttribute(null=True)
    device_count = NumberAttribute(default=0)
    # `takos:*` apps only: the gateway instance that claimed the tenant first and owns it.
    owner_instance = UnicodeAttribute(null=True)
    # How the owner claimed it: "admin" (an enrolment naming the tenant) wins over "instance"
    # (the instance's name or its well-known document's tenant).
    owner_claim = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


INSTANCE_KEY_PREFIX = "instance#"


def instance_key(name: str) -> str:
    return f"{INSTANCE_KEY_PREFIX}{name}"


class InstanceRecord(Model):
    """A gateway instance's enrolment (admin PUT, or open enrolment on a first valid request).

    `version` grows with every enrolment change; `bound_version` is the version last copied
    to the tenant app (enabled, quota), so requests re-sync the app only after a change."""

    Meta = table_meta("apps_table_name")

    app_id = UnicodeAttribute(hash_key=True)  # instance#<name>
    instance = UnicodeAttribute()
    domain = UnicodeAttribute()
    tenant = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=False)
    daily_quota = NumberAttribute(null=True)
    # The X-Push-Secret the instance must also send, sealed (pushgate.sealing).
    push_secret_sealed = UnicodeAttribute(null=True)
    enrolled_by = UnicodeAttribute()  # admin | open
    version = NumberAttribute(default=1)
    tenant_app_id = UnicodeAttribute(null=True)
    bound_version = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
