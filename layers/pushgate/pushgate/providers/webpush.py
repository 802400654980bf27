"""Standard Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm bodies (RFC 8291)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx

from pushgate import clock
from pushgate.crypto import (
    InvalidKeyError,
    InvalidVapidClaimError,
    PlaintextTooLargeError,
    SubscriptionKeys,
    VapidHeaderCache,
    VapidKey,
    encrypt,
    vapid_audience,
)
from pushgate.outbound import DEFAULT_DEADLINE_SECONDS, DEFAULT_TIMEOUT
from pushgate.providers import _http
from pushgate.providers._rfc8030 import topic_header, urgency_header
from pushgate.providers.result import Outcome, parse_retry_after

# One cache per process: a signed VAPID header is reused for every message to the same push
# service from the same app until it nears expiry.
_VAPID_HEADERS = VapidHeaderCache()
# The error of a delivery refused for the app's VAPID credentials; Apple's reason follows
# (`webpush:vapid_rejected:BadJwtToken`) when the service gave one.
VAPID_REJECTED = "webpush:vapid_rejected"
# Apple answers `{"reason": "BadJwtToken"}`: only a plain enum word is ever repeated.
_REASON = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


class WebPushSender:
    """Sends one push message to one subscription endpoint."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        vapid_headers: VapidHeaderCache | None = None,
        now: Callable[[], float] = clock.epoch,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._deadline = deadline
        self._vapid_headers = _VAPID_HEADERS if vapid_headers is None else vapid_headers
        self._now = now

    async def send(
        self,
        *,
        endpoint: str,
        p256dh: str | bytes | None,
        auth: str | bytes | None,
        payload: bytes,
        ttl: int,
        urgency: str | None,
        topic: str | None,
        vapid_key: VapidKey,
        vapid_subject: str | None,
    ) -> Outcome:
        """Encrypt `payload` for the subscription (or send an empty push when it has no keys)
        and POST it. Never raises for the push service's answer or the network.

        `topic` is the notification's collapse key; the `Topic` header is a digest of it that
        every push service accepts (`topic_header`).
        """
        try:
            audience = vapid_audience(endpoint)
        except InvalidVapidClaimError:
            return Outcome.invalid_token("webpush:invalid_subscription")
        headers = {"TTL": str(max(0, int(ttl)))}
        if (urgency_value := urgency_header(urgency)) is not None:
            headers["Urgency"] = urgency_value
        if (topic_value := topic_header(topic)) is not None:
            headers["Topic"] = topic_value
        body = _encrypted(payload, p256dh, auth, headers)
        if isinstance(body, Outcome):
            return body
        authorization = self._authorization(vapid_key, audience, vapid_subject)
        if isinstance(authorization, Outcome):
            return authorization
        headers["Authorization"] = authorization
        try:
            reply = await _http.post(
                self._client,
                endpoint,
                headers=headers,
                content=body,
                timeout=self._timeout,
                deadline=self._deadline,
                # HTTP/1.1 costs less CPU per message than HTTP/2 (DeliveryClient says why).
                http2=False,
            )
        except _http.TRANSPORT_ERRORS as error:
            return _http.transport_outcome(error)
        return self._classify(reply)

    def _authorization(
        self, vapid_key: VapidKey, audience: str, vapid_subject: str | None
    ) -> str | Outcome:
        """The VAPID `Authorization` value, or the failure that stands in for it."""
        if vapid_subject is None:
            return Outcome.failed("webpush:no_vapid_subject")
        try:
            return self._vapid_headers.authorization(vapid_key, audience, vapid_subject)
        except InvalidVapidClaimError:
            return Outcome.failed("webpush:invalid_vapid_subject")

    def _classify(self, reply: _http.Reply) -> Outcome:
        status = reply.status_code
        if 200 <= status < 300:
            return Outcome.delivered(status)
        reason = f"webpush:{status}"
        if status in (404, 410):
            return Outcome.invalid_token(reason, status)
        if status in (401, 403):
            # The push service refused the app's VAPID credentials (its key, or a subject it
            # will not accept): every message of the app fails alike until its configuration
            # changes, so this is a misconfiguration, not a dead subscription or a retry.
            named = _provider_reason(reply.body)
            return Outcome.failed(VAPID_REJECTED + (f":{named}" if named else ""), status)
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"), now=self._now())
            return Outcome.retry(reason, status, retry_after)
        return Outcome.failed(reason, status)  # 413 and every other 4xx (and 3xx): not retried


def _provider_reason(body: bytes) -> str | None:
    """The `reason` of a JSON answer when it is a plain enum word; nothing else of the
    response text (which may repeat the request) is ever used."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    reason = document.get("reason") if isinstance(document, dict) else None
    return reason if isinstance(reason, str) and _REASON.fullmatch(reason) else None


def _encrypted(
    payload: bytes, p256dh: str | bytes | None, auth: str | bytes | None, headers: dict[str, str]
) -> bytes | Outcome:
    """The aes128gcm body for a subscription with keys (its headers added to `headers`), an
    empty one for a subscription without, or the outcome that stands in for it."""
    if p256dh is None or auth is None:
        return b""
    try:
        body = encrypt(payload, SubscriptionKeys.parse(p256dh, auth))
    except InvalidKeyError:
        return Outcome.invalid_token("webpush:invalid_subscription")
    except PlaintextTooLargeError:
        return Outcome.failed("webpush:payload_too_large")
    headers["Content-Encoding"] = "aes128gcm"
    headers["Content-Type"] = "application/octet-stream"
    return body
