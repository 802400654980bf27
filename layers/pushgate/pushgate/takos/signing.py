"""Checks on a gateway client's signed request that need no storage: strict JSON, timestamps,
the validity window, nonce expiry and the ES256 signature itself. Pure functions.

Where the signature travels and what it covers: the `X-Push-Signature` header, or the body's
`signature` field (takos instances' registrations); either way it signs the body without that
field, in canonical JSON — RFC 8785, or takos' own canonical form where the two differ
(`takos_canonical`) — or, when the body has no `signature` field, the exact raw body."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pushgate.crypto import (
    CanonicalJSONError,
    InvalidKeyError,
    canonicalize,
    verify_signature,
)
from pushgate.crypto.canonical_json import serialize_number
from pushgate.errors import BadRequestError, SignatureError

# A client's clock may run this far ahead of ours.
MAX_CLOCK_SKEW_SECONDS = 60
# The longest a signed request may be valid (expiresAt - issuedAt).
MAX_LIFETIME_SECONDS = 600
# Epoch numbers at or above this are milliseconds (1e11 seconds is the year 5138).
_MILLISECONDS_FROM = 100_000_000_000
# Epoch numbers must be below this: 10000-01-01 in milliseconds, past every moment an RFC 3339
# timestamp can name.
_EPOCH_LIMIT = 253_402_300_800_000
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


class MalformedPayloadError(BadRequestError):
    default_code = "invalid_request"


@dataclass(frozen=True, slots=True)
class ValidityWindow:
    issued_at: float
    expires_at: float

    @property
    def nonce_expires_at(self) -> int:
        """When the nonce may be forgotten: the request is refused as expired by then."""
        return math.ceil(self.expires_at) + MAX_CLOCK_SKEW_SECONDS


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, strictly: UTF-8, no duplicate keys (a verifier and the
    signer must not read two different payloads from one body), no NaN or Infinity."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        message = str(exc) if isinstance(exc, _StrictJsonError) else "body is not valid JSON"
        raise MalformedPayloadError(message) from None
    if not isinstance(value, dict):
        raise MalformedPayloadError("body must be a JSON object")
    return value


class _StrictJsonError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _StrictJsonError("body has a duplicate key")
        result[key] = value
    return result


def _no_constant(_: str) -> None:
    raise _StrictJsonError("body must not contain NaN or Infinity")


def parse_timestamp(value: object, field: str) -> float:
    """Epoch seconds from an RFC 3339 string (offset required) or an epoch number in seconds
    or milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadRequestError(f"{field} must be a timestamp", code="invalid_timestamp")
    if isinstance(value, int | float):
        # Compared, never converted: JSON integers have no size limit, and one too large for a
        # float would raise. NaN compares false, so it is refused too.
        if not 0 <= value < _EPOCH_LIMIT:
            raise BadRequestError(f"{field} is not a valid epoch time", code="invalid_timestamp")
        return value / 1000 if value >= _MILLISECONDS_FROM else float(value)
    match = _RFC3339.match(value)
    if match is None:
        raise BadRequestError(
            f"{field} must be RFC 3339 (e.g. 2026-01-02T03:04:05Z) or epoch seconds/milliseconds",
            code="invalid_timestamp",
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        offset = (
            timedelta(0)
            if zulu
            else (1 if sign == "+" else -1) * timedelta(hours=int(off_h), minutes=int(off_m))
        )
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            min(int(second), 59),  # RFC 3339 leap second 60: count it as :59
            tzinfo=timezone(offset),
        )
        # In range locally, but an offset can carry it past year 9999 or before year 1 in UTC.
        epoch = moment.astimezone(UTC).timestamp()
    except (ValueError, OverflowError):
        raise BadRequestError(f"{field} is not a valid date", code="invalid_timestamp") from None
    return epoch + (float(f"0.{fraction}") if fraction else 0.0)


def check_validity(issued_at: object, expires_at: object, *, now: float) -> ValidityWindow:
    """The request's validity window, refused (401) when it is not valid at `now`."""
    window = ValidityWindow(
        parse_timestamp(issued_at, "issuedAt"), parse_timestamp(expires_at, "expiresAt")
    )
    if window.issued_at > now + MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError("issuedAt is in the future", code="not_yet_valid")
    if window.expires_at <= now:
        raise SignatureError("the request has expired", code="expired")
    if window.expires_at <= window.issued_at:
        raise SignatureError("expiresAt must be after issuedAt", code="invalid_lifetime")
    if window.expires_at - window.issued_at > MAX_LIFETIME_SECONDS:
        raise SignatureError(
            f"a signed request may be valid for at most {MAX_LIFETIME_SECONDS} seconds",
            code="lifetime_too_long",
        )
    return window


@dataclass(frozen=True, slots=True)
class Signed:
    """A request's signature and what it may sign: the payload (the body without a
    `signature` field) and, when the body carried none, the raw body too."""

    signature: str
    payload: dict[str, Any]
    raw_body: bytes | None


def split_signature(body: dict[str, Any], raw_body: bytes, header: str | None) -> Signed:
    """The signature from the header, else from the body's `signature` field; 401
    `missing_signature` when there is neither."""
    in_body = body.get("signature")
    payload = {key: value for key, value in body.items() if key != "signature"}
    signature = header if header is not None and header.strip() else in_body
    if not isinstance(signature, str) or not signature.strip():
        raise SignatureError(
            "the request is unsigned: send X-Push-Signature or a signature field",
            code="missing_signature",
        )
    return Signed(signature.strip(), payload, None if "signature" in body else raw_body)


def signed_messages(signed: Signed) -> list[bytes]:
    """The byte strings the signature may sign, in the order they are tried."""
    messages: list[bytes] = []
    for form in (canonicalize, takos_canonical):
        try:
            message = form(signed.payload)
        except (CanonicalJSONError, TypeError, ValueError, RecursionError):
            continue
        if message not in messages:
            messages.append(message)
    if signed.raw_body is not None and signed.raw_body not in messages:
        messages.append(signed.raw_body)
    return messages


def signature_verifies(public_key_pem: str, signed: Signed) -> bool:
    try:
        return any(
            verify_signature(public_key_pem, signed.signature, message)
            for message in signed_messages(signed)
        )
    except InvalidKeyError:
        return False


def takos_canonical(value: Mapping[str, Any]) -> bytes:
    """takos' `canonicalizePushPayload` (yurucommu-core `platform/src/server/push-signature.ts`),
    byte for byte: keys sorted by UTF-16 code units and written unescaped, values as
    `JSON.stringify` writes them, and (its quirk) an array or object inside an array written
    as an object keyed by index. Equal to RFC 8785 for everything takos sends but that."""
    return _takos_object(value).encode("utf-8")


def _takos_object(value: Mapping[str, Any]) -> str:
    entries = []
    for key in sorted(value, key=lambda k: k.encode("utf-16-be")):
        item = value[key]
        if isinstance(item, Mapping):
            text = _takos_object(item)
        elif isinstance(item, list):
            text = "[" + ",".join(_takos_array_item(v) for v in item) + "]"
        else:
            text = _takos_scalar(item)
        entries.append(f'"{key}":{text}')
    return "{" + ",".join(entries) + "}"


def _takos_array_item(item: Any) -> str:
    if isinstance(item, Mapping):
        return _takos_object(item)
    if isinstance(item, list):  # `v && typeof v === "object"`: an array is walked as an object
        return _takos_object({str(index): v for index, v in enumerate(item)})
    return _takos_scalar(item)


def _takos_scalar(item: Any) -> str:
    if isinstance(item, bool) or item is None or isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, int | float):
        return serialize_number(float(item)) if isinstance(item, float) else str(item)
    raise TypeError(f"{type(item).__name__} has no takos canonical form")
