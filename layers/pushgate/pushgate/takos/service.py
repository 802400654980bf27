"""The takos protocol: gateway clients register tokens and post events with signed requests.

Two wire forms take the same checks: pushgate's envelope (`issuedAt`, `expiresAt`, `nonce`,
the signature in `X-Push-Signature`), and what takos instances send (yurucommu-core):
registrations carrying the signature in the body, and events `{instance, userId,
notification}` with no envelope, whose replays are refused by `notification.id` and whose age
by `notification.created_at`.

Every request goes through the same checks, cheapest first: body strictly parsed, a signature
present, fields valid, validity window (or event age), instance enrolled and enabled (or open
enrolment for a DNS-named instance), its shared secret when its enrolment has one (events),
the well-known document fetched and naming this instance, the ES256 signature (one re-fetch
of the document on failure), then the nonce or event id, consumed last so an unauthenticated
request cannot burn one. Only then does anything change.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from pushgate import clock
from pushgate.apps.models import INSTANCE_TENANT_PREFIX, instance_owner
from pushgate.devices.addresses import Platform, infer_platform, parse_push_token
from pushgate.devices.identity import device_id_for
from pushgate.devices.service import remove_device, take_registration_slot, upsert_device
from pushgate.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    SignatureError,
)
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept, new_notification_ids
from pushgate.sealing import get_cipher
from pushgate.settings import get_settings
from pushgate.storage import devices as registry
from pushgate.storage.instances import Instance
from pushgate.storage.nonces import (
    claim_event,
    event_key,
    nonce_key,
    release_event,
    use_nonce,
)
from pushgate.takos import events, instances
from pushgate.takos.models import (
    EventRequest,
    GatewayEventRequest,
    GatewayRegistrationRequest,
    TakosEventRequest,
)
from pushgate.takos.signing import (
    Signed,
    check_validity,
    parse_json_object,
    signature_verifies,
    split_signature,
)
from pushgate.takos.wellknown import (
    InvalidWellKnownError,
    Purpose,
    WellKnownDocument,
    get_cache,
    origin_of,
)

Payload = GatewayRegistrationRequest | GatewayEventRequest | TakosEventRequest
_REGISTRATION: TypeAdapter[GatewayRegistrationRequest] = TypeAdapter(GatewayRegistrationRequest)
_EVENT: TypeAdapter[GatewayEventRequest | TakosEventRequest] = TypeAdapter(EventRequest)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request as it arrived: the exact body bytes, the X-Push-Signature header and the
    X-Push-Secret header."""

    raw_body: bytes
    signature: str | None
    push_secret: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrationResult:
    device_id: str
    tenant: str
    user_id: str
    action: Literal["register", "deregister"]
    created: bool


@dataclass(frozen=True, slots=True)
class EventResult:
    notification_id: str
    replayed: bool  # a takos event seen before: nothing new was sent


@dataclass(frozen=True, slots=True)
class _Verified:
    payload: Payload
    expires_at: int  # until when its nonce or event id must be remembered
    record: Instance | None  # None: open enrolment on this request
    document: WellKnownDocument


def register(request: SignedRequest) -> RegistrationResult:
    """`register` stores the token under the instance's tenant and the user, through the
    device registry (encrypted, deduplicated, counted); `deregister` removes it."""
    verified = _verify(request, _REGISTRATION, "registration")
    payload = verified.payload
    assert isinstance(payload, GatewayRegistrationRequest)
    platform = _platform(payload)
    address = parse_push_token(platform, payload.token, get_settings())
    _use_nonce(payload.instance, payload.nonce, verified.expires_at)
    app_id = _tenant_app(verified)
    tenant = app_id.removeprefix(INSTANCE_TENANT_PREFIX)
    owner = instance_owner(payload.instance)
    if payload.action == "register":
        take_registration_slot(app_id, owner, payload.userId)
        registration = upsert_device(
            app_id=app_id,
            user_id=payload.userId,
            platform=platform,
            address=address,
            owner=owner,
            user_agent=None,
        )
        return RegistrationResult(
            registration.device_id, tenant, payload.userId, "register", registration.created
        )
    device_id = device_id_for(app_id, address.identity)
    device = registry.get(device_id)
    if device is None or device.app_id != app_id or device.user_id != payload.userId:
        raise NotFoundError("no such device for this user")
    remove_device(device)
    return RegistrationResult(device_id, tenant, payload.userId, "deregister", False)


def _platform(payload: GatewayRegistrationRequest) -> Platform:
    """The platform to parse the token as: the one named, except that `""` and `unknown`
    (takos' defaults) and every deregistration (takos sends `""`) go by the token's form."""
    if payload.action == "deregister" or payload.platform in ("", "unknown"):
        return infer_platform(payload.token)
    return payload.platform  # type: ignore[return-value]


def post_event(request: SignedRequest) -> EventResult:
    """Send the event to the user's devices under the instance's tenant and quota, like
    `/push/send`. A takos event seen before answers with the notification it became."""
    verified = _verify(request, _EVENT, "event")
    payload = verified.payload
    if isinstance(payload, TakosEventRequest):
        return _post_takos_event(verified, payload)
    assert isinstance(payload, GatewayEventRequest)
    content = _content(
        lambda: MessageContent(
            title=payload.title, body=payload.body, data=payload.data, url=payload.url
        )
    )
    _use_nonce(payload.instance, payload.nonce, verified.expires_at)
    app_id = _tenant_app(verified)
    return EventResult(accept(app_id, [Recipient(payload.userId, content)])[0], replayed=False)


def _post_takos_event(verified: _Verified, payload: TakosEventRequest) -> EventResult:
    notification = payload.notification
    domain = verified.record.domain if verified.record is not None else payload.instance
    content = _content(lambda: events.message_for(notification, origin_of(domain)))
    app_id = _tenant_app(verified)
    key = event_key(payload.instance, notification.id)
    (notification_id,) = new_notification_ids(1)
    earlier = claim_event(key, notification_id=notification_id, expires_at=verified.expires_at)
    if earlier is not None:
        return EventResult(earlier, replayed=True)
    try:
        accept(app_id, [Recipient(payload.userId, content)], notification_ids=[notification_id])
    except BaseException:
        # Not sent: the instance may send the event again (after a 429, say).
        release_event(key, notification_id=notification_id)
        raise
    return EventResult(notification_id, replayed=False)


def _content(build: Any) -> MessageContent:
    try:
        return build()
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise BadRequestError("invalid " + ", ".join(fields), code="invalid_request") from None


def _verify(request: SignedRequest, adapter: TypeAdapter[Any], purpose: Purpose) -> _Verified:
    body = parse_json_object(request.raw_body)
    signed = split_signature(body, request.raw_body, request.signature)
    payload = _validate(adapter, body)
    now = clock.epoch()
    if isinstance(payload, TakosEventRequest):
        if payload.notification.user_id not in (None, payload.userId):
            raise BadRequestError(
                "notification.user_id is another user than userId", code="user_mismatch"
            )
        expires_at = events.claim_expiry(payload.notification, now=now)
    else:
        expires_at = check_validity(payload.issuedAt, payload.expiresAt, now=now).nonce_expires_at
    record, domain = _instance_and_domain(payload.instance)
    if purpose == "event":
        _check_push_secret(record, request.push_secret)
    document = _authenticated_document(domain, payload.instance, signed, purpose)
    return _Verified(payload, expires_at, record, document)


def _authenticated_document(
    domain: str, instance: str, signed: Signed, purpose: Purpose
) -> WellKnownDocument:
    """The instance's document whose key verifies the signature (one re-fetch of a fresher
    document when the cached one does not); 401 otherwise."""

    def refusal(document: WellKnownDocument) -> SignatureError | None:
        if document.instance != instance:
            return InvalidWellKnownError("the well-known document names another instance")
        if not signature_verifies(document.key_for(purpose), signed):
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
    return document


def _check_push_secret(record: Instance | None, presented: str | None) -> None:
    """An enrolment with a shared secret (takos' PUSH_WEBHOOK_SECRET) wants it in
    X-Push-Secret as well as the signature; without one, the header is ignored."""
    if record is None or not record.push_secret_sealed:
        return
    if not presented:
        raise SignatureError("the X-Push-Secret header is required", code="missing_push_secret")
    expected = get_cipher().open(
        record.push_secret_sealed, binding=instances.push_secret_binding(record.instance)
    )
    if not hmac.compare_digest(presented.encode(), expected):
        raise SignatureError("the X-Push-Secret header does not match", code="invalid_push_secret")


def _instance_and_domain(name: str) -> tuple[Instance | None, str]:
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


def _validate(adapter: TypeAdapter[Any], data: dict[str, Any]) -> Payload:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        fields = sorted(
            {".".join(str(p) for p in e["loc"][_shape_prefix(e) :]) or "body" for e in exc.errors()}
        )
        raise BadRequestError("invalid " + ", ".join(fields), code="invalid_request") from None


def _shape_prefix(error: Any) -> int:
    """Errors of a tagged union name the tag first (`takos.notification.id`): skip it."""
    location = error["loc"]
    return 1 if location and location[0] in ("takos", "pushgate") else 0


def _use_nonce(instance: str, nonce: str, expires_at: int) -> None:
    if not use_nonce(nonce_key(instance, nonce), expires_at=expires_at):
        raise ConflictError("this nonce was used before", code="replayed_nonce")


def _tenant_app(verified: _Verified) -> str:
    record = verified.record or instances.enrol_on_first_request(verified.payload.instance)
    return instances.bind_tenant(record, verified.document.tenant)
