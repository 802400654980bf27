"""Gateway-client discovery: `/.well-known/takos-push.json`, fetched safely, parsed strictly,
cached in the container and in DynamoDB.

The fetch follows the webhook SSRF rules (https only unless private URLs are allowed; the name
resolved and every address checked, before the request and again when connecting, and the
connection made to a checked address; no redirects), with one short deadline for the whole
exchange and a size cap. A failed fetch is remembered for a short while, so a broken or
hostile origin is not fetched again on every request. After a failed
signature the document may be re-fetched, at most once per `wellknown_refetch_seconds`, so a
key rotation is picked up without turning every bad request into a fetch.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx

from pushgate import clock, outbound
from pushgate.crypto import InvalidKeyError, load_public_key
from pushgate.errors import PushgateError, SignatureError
from pushgate.observability import logger
from pushgate.settings import Settings, get_settings
from pushgate.storage import wellknown as stored_documents
from pushgate.storage.wellknown import StoredDocument
from pushgate.takos.models import TENANT_PATTERN
from pushgate.takos.signing import MalformedPayloadError, parse_json_object
from pushgate.urls import Resolver, check_outbound_url, system_resolver

WELL_KNOWN_PATH = "/.well-known/takos-push.json"
MAX_DOCUMENT_BYTES = 16 * 1024
CONNECT_TIMEOUT_SECONDS = 2.0
FETCH_DEADLINE_SECONDS = 4.0
MAX_PEM_LENGTH = 2048
_PEM_BEGIN = "-----BEGIN PUBLIC KEY-----"
_PEM_END = "-----END PUBLIC KEY-----"
_TENANT = re.compile(TENANT_PATTERN)

Purpose = Literal["registration", "event"]


class InvalidWellKnownError(SignatureError):
    """The instance's well-known document is not one pushgate can trust keys from."""

    default_code = "invalid_wellknown"


class WellKnownUnavailableError(SignatureError):
    """The instance's well-known document could not be fetched."""

    default_code = "wellknown_unavailable"


@dataclass(frozen=True, slots=True)
class WellKnownDocument:
    """The validated fields of a well-known document, and when they were fetched."""

    instance: str
    tenant: str | None
    registration_key: str
    webhook_key: str | None
    fetched_at: float

    def key_for(self, purpose: Purpose) -> str:
        """Events are signed with the webhook key when there is one."""
        if purpose == "event" and self.webhook_key is not None:
            return self.webhook_key
        return self.registration_key

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WellKnownDocument:
        return cls(**json.loads(text))


def origin_of(domain: str) -> str:
    """An enrolment's `domain` as an origin: a host name (with optional port) is https; a
    full origin (allowed only where private URLs are) stays as given."""
    return domain if "://" in domain else f"https://{domain}"


def wellknown_url(domain: str) -> str:
    return origin_of(domain) + WELL_KNOWN_PATH


def parse_document(body: bytes, *, fetched_at: float) -> WellKnownDocument:
    """`{instance, tenant?, registrationPublicKey, webhook?: {algorithm: "ES256", publicKey}}`,
    keys as P-256 SubjectPublicKeyInfo PEM only. Other fields are ignored."""
    try:
        document = parse_json_object(body)
    except MalformedPayloadError as exc:
        raise InvalidWellKnownError(f"well-known document: {exc.message}") from None
    instance = document.get("instance")
    if not isinstance(instance, str) or not instance or len(instance) > 300:
        raise InvalidWellKnownError("well-known document: instance must be a string")
    tenant = document.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or not _TENANT.match(tenant)):
        raise InvalidWellKnownError(
            "well-known document: tenant must be 1-120 of letters, digits, '.', '_', ':', '-'"
        )
    registration_key = _pem_key(document.get("registrationPublicKey"), "registrationPublicKey")
    webhook = document.get("webhook")
    webhook_key = None
    if webhook is not None:
        if not isinstance(webhook, dict):
            raise InvalidWellKnownError("well-known document: webhook must be an object")
        if webhook.get("algorithm") != "ES256":
            raise InvalidWellKnownError("well-known document: webhook.algorithm must be ES256")
        webhook_key = _pem_key(webhook.get("publicKey"), "webhook.publicKey")
    return WellKnownDocument(
        instance=instance.lower(),
        tenant=tenant,
        registration_key=registration_key,
        webhook_key=webhook_key,
        fetched_at=fetched_at,
    )


def _pem_key(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_PEM_LENGTH:
        raise InvalidWellKnownError(f"well-known document: {field} must be a PEM public key")
    pem = value.strip()
    if not (pem.startswith(_PEM_BEGIN) and pem.endswith(_PEM_END)):
        raise InvalidWellKnownError(
            f"well-known document: {field} must be a SubjectPublicKeyInfo PEM "
            "(-----BEGIN PUBLIC KEY-----)"
        )
    try:
        load_public_key(pem)
    except InvalidKeyError as exc:
        raise InvalidWellKnownError(f"well-known document: {field}: {exc}") from None
    return pem + "\n"


def fetch_document(
    domain: str,
    *,
    settings: Settings,
    resolver: Resolver = system_resolver,
    transport: Any = None,
) -> WellKnownDocument:
    """GET the document for `domain`, the connection made only to checked addresses, the
    whole exchange within FETCH_DEADLINE_SECONDS. Raises `UnsafeUrlError` (400),
    `WellKnownUnavailableError` or `InvalidWellKnownError` (401). `transport` is an httpx
    transport, for tests."""
    url = check_outbound_url(  # a private address is refused with a 400 before connecting
        wellknown_url(domain),
        allow_private=settings.allow_private_urls,
        field="the instance's well-known URL",
        resolver=resolver,
    ).url
    if transport is None:
        backend = outbound.AddressCheckingBackend(
            allow_private=settings.allow_private_urls, resolver=resolver
        )
        transport = outbound.CheckedTransport(backend, limits=httpx.Limits(max_connections=1))
    try:
        reply = outbound.fetch_blocking(
            url,
            # identity only: a compressed body could inflate far past the size cap
            headers={"accept": "application/json", "accept-encoding": "identity"},
            deadline=FETCH_DEADLINE_SECONDS,
            max_bytes=MAX_DOCUMENT_BYTES + 1,  # one byte more tells an oversized document
            timeout=httpx.Timeout(FETCH_DEADLINE_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
            transport=transport,
            before_body=_refuse_unusable,
        )
    except outbound.DeadlineExceededError:
        raise WellKnownUnavailableError("the well-known document took too long to arrive") from None
    except httpx.HTTPError:
        raise WellKnownUnavailableError("the well-known document could not be fetched") from None
    if len(reply.body) > MAX_DOCUMENT_BYTES:
        raise InvalidWellKnownError(f"the well-known document exceeds {MAX_DOCUMENT_BYTES} bytes")
    return parse_document(reply.body, fetched_at=clock.epoch())


def _refuse_unusable(response: httpx.Response) -> None:
    """What the status and headers already tell, before any of the body is read."""
    if 300 <= response.status_code < 400:
        raise InvalidWellKnownError("the well-known document redirects; redirects are not followed")
    if response.status_code != 200:
        raise WellKnownUnavailableError(
            f"the well-known document answered HTTP {response.status_code}"
        )
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        raise InvalidWellKnownError("the well-known document must not be compressed")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise InvalidWellKnownError(f"the well-known document exceeds {MAX_DOCUMENT_BYTES} bytes")


class WellKnownCache:
    """Documents by domain: this container's copies, then DynamoDB's, then the network.
    Failed fetches are remembered for `wellknown_refetch_seconds`."""

    def __init__(self) -> None:
        self._documents: dict[str, WellKnownDocument] = {}
        self._failures: dict[str, tuple[float, PushgateError]] = {}

    def clear(self) -> None:
        self._documents.clear()
        self._failures.clear()

    def current(self, domain: str) -> WellKnownDocument:
        settings = get_settings()
        now = clock.epoch()
        document = self._documents.get(domain)
        if document is not None and now < document.fetched_at + settings.wellknown_cache_seconds:
            return document
        failure = self._failures.get(domain)
        if failure is not None and now < failure[0]:
            raise failure[1]
        stored = _load(domain, now)
        if stored is not None:
            self._documents[domain] = stored
            return stored
        return self._fetch(domain, settings)

    def refreshed(self, domain: str, stale: WellKnownDocument) -> WellKnownDocument | None:
        """After a signature failed with `stale`'s key: a newer document (another container's
        fetch, or a fetch now when `stale` is old enough), or None."""
        settings = get_settings()
        now = clock.epoch()
        stored = _load(domain, now)
        if stored is not None and stored.fetched_at > stale.fetched_at:
            self._documents[domain] = stored
            return stored
        if now - stale.fetched_at < settings.wellknown_refetch_seconds:
            return None
        try:
            return self._fetch(domain, settings)
        except PushgateError:
            return None

    def _fetch(self, domain: str, settings: Settings) -> WellKnownDocument:
        try:
            document = fetch_document(domain, settings=settings)
        except PushgateError as exc:
            self._failures[domain] = (clock.epoch() + settings.wellknown_refetch_seconds, exc)
            logger.info("well-known fetch failed", extra={"domain": domain, "code": exc.code})
            raise
        self._failures.pop(domain, None)
        self._documents[domain] = document
        if settings.wellknown_cache_seconds > 0:
            expires_at = document.fetched_at + settings.wellknown_cache_seconds
            stored_documents.save(
                domain, StoredDocument(document.to_json(), document.fetched_at, expires_at)
            )
        return document


def _load(domain: str, now: float) -> WellKnownDocument | None:
    record = stored_documents.load(domain)
    if record is None or record.expires_at <= now:  # TTL deletes lazily
        return None
    try:
        return WellKnownDocument.from_json(record.document)
    except (TypeError, ValueError):
        return None


_cache = WellKnownCache()


def get_cache() -> WellKnownCache:
    """The container's cache (tests call `get_cache().clear()`)."""
    return _cache
