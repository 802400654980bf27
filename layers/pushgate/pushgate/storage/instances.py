"""The Apps table's gateway-instance enrolments: one item per instance, `Instance` in and out.

Key: `instance#<name>` (app ids cannot contain `#`, so an enrolment never shares a key with an
app). `version` grows with every enrolment change; `bound_version` is the version last copied
to the instance's tenant app (enabled, quota), so requests re-sync the app only after a change.
Only enrolments have an `instance` attribute: the sparse GSI `instances` holds them alone, so
listing them never reads the apps.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pushgate.storage.base import conditional, table_meta

INSTANCE_KEY_PREFIX = "instance#"


def instance_key(name: str) -> str:
    return f"{INSTANCE_KEY_PREFIX}{name}"


class InstancesIndex(GlobalSecondaryIndex["InstanceRecord"]):
    class Meta:
        index_name = "instances"
        projection = AllProjection()

    instance = UnicodeAttribute(hash_key=True)


class InstanceRecord(Model):
    """The item (storage only: everything else sees `Instance`)."""

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

    instances = InstancesIndex()


@dataclass(frozen=True, slots=True)
class Instance:
    """A gateway instance's enrolment (admin PUT, or open enrolment on a first valid
    request)."""

    instance: str
    domain: str
    tenant: str | None
    enabled: bool
    daily_quota: int | None
    push_secret_sealed: str | None
    enrolled_by: str  # admin | open
    version: int
    tenant_app_id: str | None
    bound_version: int | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What an admin's PUT sets (the whole enrolment)."""

    domain: str
    tenant: str | None
    enabled: bool
    daily_quota: int | None
    push_secret_sealed: str | None


def _instance(record: InstanceRecord) -> Instance:
    return Instance(
        instance=record.instance,
        domain=record.domain,
        tenant=record.tenant,
        enabled=bool(record.enabled),
        daily_quota=int(record.daily_quota) if record.daily_quota is not None else None,
        push_secret_sealed=record.push_secret_sealed,
        enrolled_by=record.enrolled_by,
        version=int(record.version or 1),
        tenant_app_id=record.tenant_app_id,
        bound_version=int(record.bound_version) if record.bound_version is not None else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def get(name: str) -> Instance | None:
    """The enrolment, read consistently (a request right after a PUT sees it), or None."""
    try:
        return _instance(InstanceRecord.get(instance_key(name), consistent_read=True))
    except InstanceRecord.DoesNotExist:
        return None


def page(*, limit: int, after: str | None) -> tuple[list[Instance], str | None]:
    """Up to `limit` enrolments after the instance `after`, and the instance to continue after
    (None when none follows), in the index's order. One more than asked for is read, so a
    full last page says there is no next one."""
    start = None
    if after is not None:
        start = {"app_id": {"S": instance_key(after)}, "instance": {"S": after}}
    scan = InstanceRecord.instances.scan(limit=limit + 1, last_evaluated_key=start)
    found = [_instance(record) for record in scan]
    more = len(found) > limit
    return found[:limit], (found[limit - 1].instance if more else None)


def put(name: str, enrolment: Enrolment, *, now: str) -> Instance:
    """Enrol by an admin, or replace the enrolment; its version moves on."""

    def set_or_remove(attribute, value):
        return attribute.set(value) if value is not None else attribute.remove()

    record = InstanceRecord(instance_key(name))
    record.update(
        actions=[
            InstanceRecord.instance.set(name),
            InstanceRecord.domain.set(enrolment.domain),
            set_or_remove(InstanceRecord.tenant, enrolment.tenant),
            InstanceRecord.enabled.set(enrolment.enabled),
            set_or_remove(InstanceRecord.daily_quota, enrolment.daily_quota),
            set_or_remove(InstanceRecord.push_secret_sealed, enrolment.push_secret_sealed),
            InstanceRecord.enrolled_by.set("admin"),
            InstanceRecord.version.add(1),
            InstanceRecord.created_at.set(InstanceRecord.created_at | now),
            InstanceRecord.updated_at.set(now),
        ]
    )
    return _instance(record)


def enrol_open(name: str, *, now: str) -> Instance | None:
    """Open enrolment: the instance at `name` enrolled as its own domain, enabled. None when
    it was enrolled meanwhile (by a concurrent first request or an admin)."""
    record = InstanceRecord(instance_key(name))
    actions = [
        InstanceRecord.instance.set(name),
        InstanceRecord.domain.set(name),
        InstanceRecord.enabled.set(True),
        InstanceRecord.enrolled_by.set("open"),
        InstanceRecord.version.set(1),
        InstanceRecord.created_at.set(now),
        InstanceRecord.updated_at.set(now),
    ]
    condition = InstanceRecord.app_id.does_not_exist()
    if not conditional(lambda: record.update(actions=actions, condition=condition)):
        return None
    return _instance(record)


def delete(name: str) -> None:
    InstanceRecord(instance_key(name)).delete()


def record_binding(name: str, *, tenant_app_id: str, version: int) -> bool:
    """Note that the enrolment at `version` is copied to `tenant_app_id`; False when the
    enrolment changed meanwhile (the next request binds again)."""
    actions = [
        InstanceRecord.tenant_app_id.set(tenant_app_id),
        InstanceRecord.bound_version.set(version),
    ]
    return conditional(
        lambda: InstanceRecord(instance_key(name)).update(
            actions=actions, condition=InstanceRecord.version == version
        )
    )


def unbind(name: str) -> None:
    """Move the enrolment's version on, so the instance binds again on its next request."""
    conditional(
        lambda: InstanceRecord(instance_key(name)).update(
            actions=[InstanceRecord.version.add(1)], condition=InstanceRecord.app_id.exists()
        )
    )
