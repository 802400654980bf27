"""The takos protocol: gateway clients register tokens and post events with signed requests.

Every request goes through the same checks, cheapest first: signature header present, body
strictly parsed, validity window (issuedAt, expiresAt, lifetime), instance enrolled and
enabled (or open enrolment for a DNS-named instance), the well-known document fetched and
naming this instance, the ES256 signature (canonical JSON, else the raw body; one re-fetch
of the document on failure), then the nonce, consumed last so an unauthenticated request
cannot burn one. Only then does anything change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import ValidationError

from pushgate import clock
from pushgate.apps.models import INSTANCE_TENANT_PREFIX, instance_owner
from pushgate.devices.addresses import parse_push_token
from pushgate.devices.identity import device_id_for
from pushgate.devices.service import remove_device, take_registration_slot, upsert_device
from pushgate.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    SignatureError,
)
from pushgate.gateway import instances
from pushgate.gateway.models import (
    GatewayEventRequest,
    GatewayRegistrationRequest,
    SignedPayload,
)
from pushgate.gateway.signing import (
    ValidityWindow,
    check_validity,
    parse_json_object,
    require_signature,
    signature_verifies,
)
from pushgate.gateway.wellknown import (
    InvalidWellKnownError,
    Purpose,
    WellKnownDocument,
    get_cache,
)
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept
from pushgate.settings import get_settings
from pushgate.storage.apps import InstanceRecord
from pushgate.storage.devices import DeviceRecord
from pushgate.storage.nonces import nonce_key, use_nonce

PayloadT = TypeVar("PayloadT", bound=SignedPayload)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as it arrived: the exact body bytes and the X-Push-Signature header."""

    raw_body: bytes
    signature: str | None


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    device_id: str
    tenant: str
    user_id: str
    action: Literal["register", "deregister"]
    created: bool


@dataclass(frozen=True, slots=True)
class _Verified(Generic[PayloadT]):
    payload: PayloadT
    window: ValidityWindow
    record: InstanceRecord | None  # None: open enrolment on this request
    document: WellKnownDocument


def register(request: SignedRequest) -> RegistrationResult:
    """`register` stores the token under the instance's tenant and the user, through the
    device registry (encrypted, deduplicated, counted); `deregister` removes it."""
    verified = _verify(request, GatewayRegistrationRequest, "registration")
    payload = verified.payload
    address = parse_push_token(payload.platform, payload.token, get_settings())
    _use_nonce(payload, verified.window)
    app_id = _tenant_app(payload.instance, verified)
    tenant = app_id.removeprefix(INSTANCE_TENANT_PREFIX)
    owner = instance_owner(payload.instance)
    if payload.action == "register":
        take_registration_slot(app_id, owner, payload.userId)
        registration = upsert_device(
            app_id=app_id,
            user_id=payload.userId,
            platform=payload.platform,
            address=address,
            owner=owner,
            user_agent=None,
        )
        return RegistrationResult(
            registration.device_id, tenant, payload.userId, "register", registration.created
        )
    device_id = device_id_for(app_id, address.identity)
    try:
        device = DeviceRecord.get(device_id)
    except DeviceRecord.DoesNotExist:
        device = None
    if device is None or device.app_id != app_id or device.user_id != payload.userId:
        raise NotFoundError("no such device for this user")
    remove_device(device)
    return RegistrationResult(device_id, tenant, payload.userId, "deregister", False)


def post_event(request: SignedRequest) -> str:
    """Send the event to the user's devices under the instance's tenant and quota, like
    `/push/send`. Returns the notification id."""
    verified = _verify(request, GatewayEventRequest, "event")
    payload = verified.payload
    try:
        content = MessageContent(
            title=payload.title, body=payload.body, data=payload.data, url=payload.url
        )
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise BadRequestError("invalid " + ", ".join(fields), code="invalid_request") from None
    _use_nonce(payload, verified.window)
    app_id = _tenant_app(payload.instance, verified)
    return accept(app_id, [Recipient(payload.userId, content)])[0]


def _verify(request: SignedRequest, model: type[PayloadT], purpose: Purpose) -> _Verified[PayloadT]:
    signature = require_signature(request.signature)
    data = parse_json_object(request.raw_body)
    payload = _validate(model, data)
    window = check_validity(payload.issuedAt, payload.expiresAt, now=clock.epoch())
    record, domain = _instance_and_domain(payload.instance)

    def refusal(document: WellKnownDocument) -> SignatureError | None:
        """Why `document` does not authenticate the request, or None when it does."""
        if document.instance != payload.instance:
            return InvalidWellKnownError("the well-known document names another instance")
        key = document.key_for(purpose)
        if not signature_verifies(key, signature, data, request.raw_body):
            return SignatureError("the signature does not verify with the instance's key")
        return None

    cache = get_cache()
    document = cache.current(domain)
    refused = refusal(document)
    if refused is not None:
        fresher = cache.refreshed(domain, document)
        if fresher is not None:
            document, refused = fresher, refusal(fresher)
        if refused is not None:
            raise refused
    return _Verified(payload, window, record, document)


def _instance_and_domain(name: str) -> tuple[InstanceRecord | None, str]:
    """The enrolment and where its keys are published; no enrolment (None) only for a
    DNS-named instance in open mode, whose domain is its name."""
    record = instances.find_instance(name)
    if record is not None:
        if not record.enabled:
            raise ForbiddenError(f"instance {name} is disabled", code="instance_disabled")
        return record, record.domain
    if get_settings().instance_enrollment == "open" and instances.is_dns_name(name):
        return None, name
    raise NotFoundError(f"instance {name} is not enrolled", code="unknown_instance")


def _validate(model: type[PayloadT], data: dict[str, Any]) -> PayloadT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        raise BadRequestError("invalid " + ", ".join(fields), code="invalid_request") from None


def _use_nonce(payload: SignedPayload, window: ValidityWindow) -> None:
    key = nonce_key(payload.instance, payload.nonce)
    if not use_nonce(key, expires_at=window.nonce_expires_at):
        raise ConflictError("this nonce was used before", code="replayed_nonce")


def _tenant_app(name: str, verified: _Verified[Any]) -> str:
    record = verified.record or instances.enrol_on_first_request(name)
    return instances.bind_tenant(record, verified.document.tenant)
