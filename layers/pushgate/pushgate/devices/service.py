"""The device registry: register (deduplicated, rate-limited, capped per user), remove, list.

Every insert and delete changes the app's `device_count` in the same DynamoDB transaction, so
the counter is exact without ever scanning. A user is `(owner issuer, user id)`: the issuer of
the token that registered the device (a gateway instance for its users' devices).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from pushgate import clock
from pushgate.auth import SCOPE_CONFIG, Principal
from pushgate.devices.addresses import (
    Platform,
    PushAddress,
    deserialize,
    parse_push_token,
    serialize,
)
from pushgate.devices.identity import device_id_for
from pushgate.devices.models import (
    DEVICE_ID_PATTERN,
    AccountApp,
    AccountDevicesResponse,
    AppDevicesResponse,
    Device,
    RegisterDeviceRequest,
)
from pushgate.errors import ConflictError, NotFoundError
from pushgate.managed_ntfy import removals
from pushgate.policy import may_manage_device, require_app_access, require_app_user, require_user
from pushgate.rate_limits import require_slot
from pushgate.sealing import get_cipher
from pushgate.settings import get_settings
from pushgate.storage import apps
from pushgate.storage import devices as registry
from pushgate.storage.cursors import decode_cursor, encode_cursor

REGISTRATIONS_PER_HOUR = 10
_UPSERT_ATTEMPTS = 3
_ACCOUNT_DEVICE_LIMIT = 1000
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class Registration:
    device_id: str
    created: bool


def address_binding(device_id: str) -> str:
    return f"devices/{device_id}/address"


def open_address(record: registry.Device) -> PushAddress:
    """The device's push address, decrypted (for delivery only: never returned by the API)."""
    sealed = record.address_sealed
    return deserialize(get_cipher().open(sealed, binding=address_binding(record.device_id)))


def register_device(principal: Principal, request: RegisterDeviceRequest) -> Registration:
    """An end user of the app's user issuer registers a device with an app their token is
    issued for."""
    require_app_user(principal, request.app_id)
    address = parse_push_token(request.platform, request.push_token, get_settings())
    take_registration_slot(request.app_id, principal.issuer, principal.subject)
    return upsert_device(
        app_id=request.app_id,
        user_id=principal.subject,
        platform=request.platform,
        address=address,
        owner=principal.issuer,
        user_agent=request.user_agent,
    )


def take_registration_slot(app_id: str, owner: str, user_id: str) -> None:
    """One of the user's REGISTRATIONS_PER_HOUR registrations in the app, else 429."""
    owner_digest = hashlib.sha256(owner.encode()).hexdigest()[:16]  # fixed width: unambiguous
    require_slot(
        f"regrate#{app_id}#{owner_digest}#{user_id}",
        limit=REGISTRATIONS_PER_HOUR,
        what="registrations per user per app",
    )


def upsert_device(
    *,
    app_id: str,
    user_id: str,
    platform: Platform,
    address: PushAddress,
    owner: str,
    user_agent: str | None,
) -> Registration:
    """Insert the device, or refresh it when the same address is registered again (moving it
    to `user_id` if another user had it). Both paths are conditional writes on the one
    primary key the address hashes to, so concurrent registrations end with one device."""
    device_id = device_id_for(app_id, address.identity)
    sealed = get_cipher().seal(serialize(address), binding=address_binding(device_id))
    for _ in range(_UPSERT_ATTEMPTS):
        now = clock.rfc3339()
        device = registry.Device(
            device_id=device_id,
            app_id=app_id,
            user_id=user_id,
            platform=platform,
            channel=address.channel,
            address_sealed=sealed,
            owner_issuer=owner,
            user_agent=user_agent,
            created_at=now,
            last_seen_at=now,
        )
        if registry.insert(device):
            _trim_user_devices(app_id, user_id, owner, keep=device_id)
            return Registration(device_id, created=True)
        if registry.refresh(device):
            _trim_user_devices(app_id, user_id, owner, keep=device_id)
            return Registration(device_id, created=False)
        # else it was deleted between the two writes: insert again
    raise ConflictError("the device is being changed concurrently; try again")


def _trim_user_devices(app_id: str, user_id: str, owner: str, *, keep: str) -> None:
    """Keep the user at most `max_devices_per_user` devices in the app: the least recently
    seen go (never `keep`, the one just registered). Run after every registration, so
    concurrent ones converge on the cap."""
    limit = get_settings().max_devices_per_user
    devices = user_devices(app_id, user_id, owner, limit=None)
    excess = len(devices) - limit
    if excess <= 0:
        return
    for record in [d for d in reversed(devices) if d.device_id != keep][:excess]:
        _forget(record)


def remove_device(device: registry.Device) -> bool:
    """Delete a device and decrement its app's count, atomically. False if already gone."""
    return registry.remove(device)


def delete_device(principal: Principal, device_id: str) -> None:
    """The owning user or the owning app removes a device; anyone else sees 404."""
    record = registry.get(device_id)
    if record is None or not may_manage_device(
        principal, app_id=record.app_id, user_id=record.user_id, owner_issuer=record.owner_issuer
    ):
        raise NotFoundError("no such device")
    _forget(record)


def _forget(device: registry.Device) -> None:
    """Remove a device its user or their app let go of; when it was a managed ntfy channel,
    the channel's account and grant go too (in the background). The removal is queued first:
    when the queue refuses (503), the device stays and asking again repeats both."""
    removals.request_removal_of_device(device)
    remove_device(device)


def user_devices(
    app_id: str, user_id: str, owner: str | None, *, limit: int | None
) -> list[registry.Device]:
    """The devices of the user `(owner, user_id)` in one app, most recently seen first, at
    most `limit` of them (delivery's look-up: a job never fans out to more than a user may
    have). No owner (an app whose user issuer is unknown) has no devices."""
    if owner is None:
        return []
    records = [d for d in registry.of_user(user_id, app_id=app_id) if d.owner_issuer == owner]
    records.sort(key=lambda record: record.last_seen_at, reverse=True)
    return records if limit is None else records[:limit]


def _to_device(record: registry.Device) -> Device:
    return Device(
        device_id=record.device_id,
        user_id=record.user_id,
        platform=record.platform,
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
    )


def list_app_devices(
    principal: Principal, app_id: str, *, limit: int, cursor: str | None
) -> AppDevicesResponse:
    """One page of an app's devices. The cursor only names a device id: the partition is
    always the app in the path, so no cursor can page into another app."""
    require_app_access(principal, app_id, SCOPE_CONFIG)
    after = decode_cursor(cursor, "d", _DEVICE_ID) if cursor is not None else None
    page, last = registry.page_of_app(app_id, limit=limit, after=after)
    devices = [_to_device(record) for record in page]
    next_cursor = encode_cursor("d", last) if last is not None else None
    app = apps.get(app_id, fields=["device_count"])
    if app is None:
        raise NotFoundError(f"app {app_id} does not exist")
    return AppDevicesResponse(devices=devices, total=app.device_count, next_cursor=next_cursor)


def list_account_devices(principal: Principal) -> AccountDevicesResponse:
    """The caller's devices in every app, grouped by app (registered with this issuer)."""
    require_user(principal)
    grouped: dict[str, list[Device]] = defaultdict(list)
    for record in registry.of_user(principal.subject, limit=_ACCOUNT_DEVICE_LIMIT):
        if record.owner_issuer == principal.issuer:
            grouped[record.app_id].append(_to_device(record))
    return AccountDevicesResponse(
        apps=[
            AccountApp(app_id=app_id, devices=devices)
            for app_id, devices in sorted(grouped.items())
        ]
    )
