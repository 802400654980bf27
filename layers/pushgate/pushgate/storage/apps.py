"""The Apps table's tenant apps: one item per app, `App` in and out.

Key: `<app_id>` (a gateway instance's tenant app is `takos:<tenant>`; enrolments share the
table under `instance#<name>`, see `pushgate.storage.instances`, and `page` skips them).
`device_count` is changed with atomic ADDs by the device registry (`pushgate.storage.devices`),
so writes here name their fields and never put the whole item back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from pushgate.storage.base import WriteConflictError, is_condition_failure, table_meta
from pushgate.storage.instances import INSTANCE_KEY_PREFIX


class AppRecord(Model):
    """The item (storage only: everything else sees `App`)."""

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
    # `takos:*` apps only: the gateway instance that owns the tenant, and how it claimed it:
    # "admin" (an enrolment naming the tenant) wins over "instance" (its name or document).
    owner_instance = UnicodeAttribute(null=True)
    owner_claim = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


@dataclass(frozen=True, slots=True)
class App:
    """A tenant app as stored. A read of some fields leaves the others at their defaults."""

    app_id: str
    enabled: bool = False
    suspended: bool = False
    webhook_url: str | None = None
    webhook_secret_sealed: str | None = None
    webhook_previous_secret_sealed: str | None = None
    webhook_secret_rotated_at: float | None = None
    webhook_disabled_at: str | None = None
    webhook_disabled_reason: str | None = None
    daily_quota: int | None = None
    max_daily_quota: int | None = None
    issuer: str | None = None
    service_issuers: tuple[str, ...] = ()
    user_issuer: str | None = None
    vapid_subject: str | None = None
    vapid_public_key: str | None = None
    vapid_private_key_sealed: str | None = None
    fcm_service_account_sealed: str | None = None
    fcm_project_id: str | None = None
    device_count: int = 0
    owner_instance: str | None = None
    owner_claim: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


FIELDS = frozenset(f.name for f in fields(App))


@dataclass
class AppChange:
    """One write: values to assign, attributes to remove, and values to assign only where the
    item has none yet."""

    assign: dict[str, Any] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    assign_if_absent: dict[str, Any] = field(default_factory=dict)

    def names(self) -> set[str]:
        return set(self.assign) | self.remove | set(self.assign_if_absent)


@dataclass(frozen=True, slots=True)
class AppExpectation:
    """What must hold for a write to go through (else `WriteConflictError`): the app absent,
    or unchanged since `updated_at`; some attributes absent; some equal to given values."""

    absent: bool = False
    updated_at: str | None = None
    without: tuple[str, ...] = ()
    equal: Mapping[str, Any] = field(default_factory=dict)


def _app(record: AppRecord) -> App:
    values = {name: getattr(record, name, None) for name in FIELDS}
    values["enabled"] = bool(values["enabled"])
    values["suspended"] = bool(values["suspended"])
    values["service_issuers"] = tuple(values["service_issuers"] or ())
    values["device_count"] = max(0, int(values["device_count"] or 0))
    for number in ("daily_quota", "max_daily_quota"):
        if values[number] is not None:
            values[number] = int(values[number])
    if values["webhook_secret_rotated_at"] is not None:
        values["webhook_secret_rotated_at"] = float(values["webhook_secret_rotated_at"])
    return App(**values)


def get(
    app_id: str, *, fields: Sequence[str] | None = None, consistent: bool = False
) -> App | None:
    """The app (only `fields`, when given), or None when there is none."""
    attributes = None if fields is None else sorted({"app_id", *fields})
    try:
        record = AppRecord.get(app_id, attributes_to_get=attributes, consistent_read=consistent)
    except AppRecord.DoesNotExist:
        return None
    return _app(record)


def get_many(app_ids: Iterable[str], *, fields: Sequence[str]) -> dict[str, App]:
    """The apps that exist among `app_ids` (only `fields`), by id: one BatchGetItem per 100."""
    keys = sorted(set(app_ids))
    if not keys:
        return {}
    attributes = sorted({"app_id", *fields})
    return {
        record.app_id: _app(record)
        for record in AppRecord.batch_get(keys, attributes_to_get=attributes)
    }


def page(*, limit: int, after: str | None, fields: Sequence[str]) -> tuple[list[App], str | None]:
    """Up to `limit` apps (only `fields`) after the app id `after`, and the app id to continue
    after (None when no app follows). The order is the table's (a Scan: stable, but not
    alphabetical); enrolments sharing the table are filtered out. One more app than asked for
    is read, so a full last page says there is no next one."""
    start = {"app_id": {"S": after}} if after is not None else None
    scan = AppRecord.scan(
        ~AppRecord.app_id.startswith(INSTANCE_KEY_PREFIX),
        limit=limit + 1,
        last_evaluated_key=start,
        attributes_to_get=sorted({"app_id", *fields}),
    )
    found = [_app(record) for record in scan]
    more = len(found) > limit
    return found[:limit], (found[limit - 1].app_id if more else None)


def write(app_id: str, change: AppChange, expect: AppExpectation | None = None) -> App:
    """Apply `change` (creating the app when absent) if `expect` holds; the app as written."""
    unknown = change.names() - FIELDS
    if unknown:
        raise ValueError(f"not app fields: {sorted(unknown)}")
    actions = [getattr(AppRecord, name).set(value) for name, value in change.assign.items()]
    actions += [getattr(AppRecord, name).remove() for name in sorted(change.remove)]
    actions += [
        getattr(AppRecord, name).set(getattr(AppRecord, name) | value)
        for name, value in change.assign_if_absent.items()
    ]
    record = AppRecord(app_id)
    try:
        record.update(actions=actions, condition=_condition(expect))
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            raise WriteConflictError(f"app {app_id} changed meanwhile") from None
        raise
    return _app(record)


def _condition(expect: AppExpectation | None) -> Any:
    if expect is None:
        return None
    conditions: list[Any] = []
    if expect.absent:
        conditions.append(AppRecord.app_id.does_not_exist())
    if expect.updated_at is not None:
        conditions.append(AppRecord.updated_at == expect.updated_at)
    conditions += [getattr(AppRecord, name).does_not_exist() for name in expect.without]
    for name, value in expect.equal.items():
        attribute = getattr(AppRecord, name)
        conditions.append(attribute.does_not_exist() if value is None else attribute == value)
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def claim_owner(
    app_id: str, *, instance: str, claim: str, user_issuer: str, over_weaker_claims: bool
) -> None:
    """Make `instance` the owner of a gateway tenant's app (creating the item when absent),
    if no other instance owns it, or (`over_weaker_claims`) only by a claim other than
    "admin". Raises `WriteConflictError` otherwise."""
    claimable = AppRecord.app_id.does_not_exist() | (AppRecord.owner_instance == instance)
    if over_weaker_claims:
        claimable |= AppRecord.owner_claim.does_not_exist() | (AppRecord.owner_claim != "admin")
    try:
        AppRecord(app_id).update(
            actions=[
                AppRecord.owner_instance.set(instance),
                AppRecord.owner_claim.set(claim),
                AppRecord.user_issuer.set(user_issuer),
            ],
            condition=claimable,
        )
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            raise WriteConflictError(f"app {app_id} is owned by another instance") from None
        raise
