"""Gateway-instance enrolment (admin PUT/GET/DELETE, or open enrolment on a first valid
request) and the tenant app each instance acts as.

An instance's devices and quota belong to the app `takos:<tenant>`. The tenant is the one
an admin's enrolment names, which always wins; else the well-known document's, which may only
be the instance's own name or its domain (or a name under it), so no document can claim
another's tenant; else the instance name. That app is an ordinary app, configured
through `pushgate.apps.service`, so the send pipeline and the deliver function treat it like
any other app; its users are the instance's (`takos-instance:<name>`). One instance owns a
tenant: another naming the same tenant is refused, except that an enrolment naming the tenant
takes it over from an instance that only claimed it by name or document.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pushgate import clock
from pushgate.apps.models import INSTANCE_TENANT_PREFIX, AppConfigPatchRequest, instance_owner
from pushgate.apps.service import apply_app_config
from pushgate.audit import record_change
from pushgate.auth import Principal
from pushgate.errors import ConflictError, ForbiddenError, NotFoundError
from pushgate.policy import require_admin
from pushgate.sealing import get_cipher
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage import instances as enrolments
from pushgate.storage.base import WriteConflictError
from pushgate.storage.counters import daily_quota_key, read_count, read_counts
from pushgate.storage.cursors import decode_cursor, encode_cursor
from pushgate.storage.instances import Enrolment, Instance, instance_key
from pushgate.takos.models import (
    INSTANCE_PATTERN,
    InstancePutRequest,
    InstanceResponse,
    InstancesPageResponse,
)
from pushgate.takos.wellknown import wellknown_url
from pushgate.urls import UnsafeUrlError, check_outbound_url

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
# What open enrolment accepts as an instance name: a DNS host name, optional port.
_DNS_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?$")
_HOST_AND_PORT = re.compile(r"^[a-z0-9.-]+(?::[0-9]{1,5})?$")
_INSTANCE = re.compile(INSTANCE_PATTERN)
_CURSOR_KIND = "i"


def push_secret_binding(instance: str) -> str:
    return f"instances/{instance}/push_secret"


def tenant_app_id(tenant: str) -> str:
    return f"{INSTANCE_TENANT_PREFIX}{tenant}"


def is_dns_name(name: str) -> bool:
    host = name.rsplit(":", 1)[0] if ":" in name else name
    return bool(_DNS_NAME.match(name)) and not host.replace(".", "").isdigit()


def find_instance(name: str) -> Instance | None:
    return enrolments.get(name)


def normalize_domain(domain: str) -> str:
    """`host[:port]`, or a full origin where private URLs are allowed; checked like a
    webhook URL (resolved, no private addresses under production rules)."""
    settings = get_settings()
    value = domain.strip().lower().rstrip("/")
    if "://" in value:
        parts = urlsplit(value)
        if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
            raise UnsafeUrlError("domain must be a host name or an origin without a path")
        if not settings.allow_private_urls:
            raise UnsafeUrlError("domain must be a host name (the document is fetched over https)")
    elif not _HOST_AND_PORT.match(value):
        raise UnsafeUrlError("domain must be a host name with an optional port")
    check_outbound_url(
        wellknown_url(value), allow_private=settings.allow_private_urls, field="domain"
    )
    return value


def put_instance(
    principal: Principal, name: str, request: InstancePutRequest
) -> tuple[InstanceResponse, bool]:
    """Enrol an instance or replace its enrolment (admins). Returns the enrolment and whether
    it is new. A change reaches the tenant app at once when the instance already has one."""
    require_admin(principal)
    domain = normalize_domain(request.domain)
    existing = find_instance(name)
    sealed_secret = None
    if request.push_secret is not None:
        sealed_secret = get_cipher().seal(
            request.push_secret.encode(), binding=push_secret_binding(name)
        )
    enrolment = Enrolment(
        domain=domain,
        tenant=request.tenant,
        enabled=request.enabled,
        daily_quota=request.daily_quota,
        push_secret_sealed=sealed_secret,
    )
    record = enrolments.put(name, enrolment, now=clock.rfc3339())
    if record.tenant_app_id:
        _sync_tenant_app(record, record.tenant_app_id)
    action = "instance.update" if existing else "instance.enrol"
    record_change(
        action, principal=principal, app_id=instance_key(name), fields=request.model_fields_set
    )
    return to_response(record), existing is None


def get_instance(principal: Principal, name: str) -> InstanceResponse:
    require_admin(principal)
    record = find_instance(name)
    if record is None:
        raise NotFoundError(f"instance {name} is not enrolled")
    return to_response(record)


def list_instances(
    principal: Principal, *, limit: int, cursor: str | None
) -> InstancesPageResponse:
    """One page of every enrolment (admins only), each as GET /push/instances/{instance}
    answers it; the tenant apps' counts in one BatchGetItem per table."""
    require_admin(principal)
    after = decode_cursor(cursor, _CURSOR_KIND, _INSTANCE) if cursor is not None else None
    page, last = enrolments.page(limit=limit, after=after)
    tenant_apps = [record.tenant_app_id for record in page if record.tenant_app_id]
    day = clock.utc_day()
    found = apps.get_many(tenant_apps, fields=["device_count"])
    today = read_counts(daily_quota_key(app_id, day) for app_id in tenant_apps)
    responses = []
    for record in page:
        app_id = record.tenant_app_id
        app = found.get(app_id) if app_id else None
        responses.append(
            _response(
                record,
                device_count=app.device_count if app is not None else 0,
                notifications_today=today[daily_quota_key(app_id, day)] if app_id else 0,
            )
        )
    return InstancesPageResponse(
        instances=responses,
        next_cursor=encode_cursor(_CURSOR_KIND, last) if last is not None else None,
    )


def delete_instance(principal: Principal, name: str) -> None:
    """Remove the enrolment and disable its tenant app. The app keeps its devices and its
    owner, so the instance gets them back if it is enrolled again and no other can claim
    them. (In open mode an instance re-enrols itself: disable it with PUT instead.)"""
    require_admin(principal)
    record = find_instance(name)
    if record is None:
        raise NotFoundError(f"instance {name} is not enrolled")
    enrolments.delete(name)
    if record.tenant_app_id:
        apply_app_config(record.tenant_app_id, AppConfigPatchRequest(enabled=False), None)
    record_change("instance.delete", principal=principal, app_id=instance_key(name))


def enrol_on_first_request(name: str) -> Instance:
    """Open enrolment: the instance at `name` signed a valid request; enrol it as if an admin
    had PUT `{domain: name, enabled: true}`."""
    record = enrolments.enrol_open(name, now=clock.rfc3339())
    if record is None:  # a concurrent first request enrolled it
        enrolled = find_instance(name)
        if enrolled is None:
            raise ConflictError(f"instance {name} is being enrolled concurrently; try again")
        return enrolled
    record_change("instance.enrol", principal=None, app_id=instance_key(name), fields=["domain"])
    return record


def _host(domain: str) -> str:
    """The host name of an enrolment's `domain` (`host[:port]` or, locally, an origin)."""
    return (urlsplit(domain).hostname or "") if "://" in domain else domain.rsplit(":", 1)[0]


def tenant_for(record: Instance, wellknown_tenant: str | None) -> tuple[str, str]:
    """(the instance's tenant, how it is claimed: "admin" when an enrolment names it, else
    "instance"). Raises 403 `tenant_not_allowed` for a document naming someone else's."""
    if record.tenant:
        return record.tenant, "admin"
    # A document's tenant is a name (the instance's, or its domain's): case does not count.
    wellknown_tenant = wellknown_tenant.lower() if wellknown_tenant is not None else None
    if wellknown_tenant is None or wellknown_tenant == record.instance:
        return record.instance, "instance"
    host = _host(record.domain)
    if host and (wellknown_tenant == host or wellknown_tenant.endswith("." + host)):
        return wellknown_tenant, "instance"
    raise ForbiddenError(
        f"the well-known document names tenant {wellknown_tenant}, which is neither the "
        f"instance nor under its domain {host}; an admin may enrol the instance with it",
        code="tenant_not_allowed",
    )


def bind_tenant(record: Instance, wellknown_tenant: str | None) -> str:
    """The instance's tenant app id, claimed and configured (enabled, quota, VAPID key, its
    users' issuer) when the tenant or the enrolment changed since the last request."""
    tenant, claim = tenant_for(record, wellknown_tenant)
    app_id = tenant_app_id(tenant)
    if record.tenant_app_id == app_id and record.bound_version == record.version:
        return app_id
    previous_owner = None
    if claim == "admin":  # an enrolment naming the tenant beats a claim by name or document
        previous_owner = _owner(app_id)
    try:
        apps.claim_owner(
            app_id,
            instance=record.instance,
            claim=claim,
            user_issuer=instance_owner(record.instance),
            over_weaker_claims=claim == "admin",
        )
    except WriteConflictError:
        raise ForbiddenError(
            f"tenant {tenant} belongs to another instance", code="tenant_taken"
        ) from None
    if previous_owner not in (None, record.instance):
        _unbind(previous_owner)
    _sync_tenant_app(record, app_id)
    return app_id


def _owner(app_id: str) -> str | None:
    app = apps.get(app_id, fields=["owner_instance"])
    return app.owner_instance if app is not None else None


def _unbind(instance: str) -> None:
    """Make an instance that lost its tenant bind again on its next request (and be refused):
    its enrolment's version moves past the one its binding was made at."""
    enrolments.unbind(instance)


def _sync_tenant_app(record: Instance, app_id: str) -> None:
    quota = record.daily_quota or get_settings().default_daily_quota
    config = AppConfigPatchRequest(enabled=record.enabled, daily_quota=quota, max_daily_quota=quota)
    apply_app_config(app_id, config, None)
    # When the enrolment changed meanwhile this is not recorded: the next request syncs again.
    enrolments.record_binding(record.instance, tenant_app_id=app_id, version=record.version)


def to_response(record: Instance) -> InstanceResponse:
    device_count = notifications_today = 0
    if record.tenant_app_id:
        app = apps.get(record.tenant_app_id, fields=["device_count"])
        device_count = app.device_count if app is not None else 0
        notifications_today = read_count(daily_quota_key(record.tenant_app_id, clock.utc_day()))
    return _response(record, device_count=device_count, notifications_today=notifications_today)


def _response(record: Instance, *, device_count: int, notifications_today: int) -> InstanceResponse:
    return InstanceResponse(
        instance=record.instance,
        domain=record.domain,
        tenant=record.tenant,
        enabled=record.enabled,
        daily_quota=record.daily_quota or get_settings().default_daily_quota,
        push_secret_set=bool(record.push_secret_sealed),
        enrolled_by="open" if record.enrolled_by == "open" else "admin",
        tenant_app_id=record.tenant_app_id,
        device_count=device_count,
        notifications_today=notifications_today,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
