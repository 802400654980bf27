"""The Nonces table: gateway-client nonces and takos event ids, each accepted once.

Keys: `<instance>#<nonce>` (instance names and nonces cannot contain `#`); `<instance>#event:<id>`
for a takos instance's notification event (its ids cannot contain `#`, nonces cannot contain
`:`), holding the pushgate notification id the event became. Items expire through TTL once
the request they came with can no longer be replayed anyway.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class NonceRecord(Model):
    Meta = table_meta("nonces_table_name")

    nonce_key = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    notification_id = UnicodeAttribute(null=True)  # event keys: what the event became


def nonce_key(instance: str, nonce: str) -> str:
    return f"{instance}#{nonce}"


def use_nonce(key: str, *, expires_at: int) -> bool:
    """Record a nonce; False when it was recorded before (one conditional PutItem, so two
    concurrent requests carrying the same nonce cannot both succeed)."""
    try:
        NonceRecord(key, expires_at=expires_at).save(
            condition=NonceRecord.nonce_key.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def event_key(instance: str, event_id: str) -> str:
    return f"{instance}#event:{event_id}"


def claim_event(key: str, *, notification_id: str, expires_at: int) -> str | None:
    """Record an event as becoming `notification_id`; when it was recorded before, nothing
    changes and the notification id it became then is returned (a replay)."""
    try:
        NonceRecord(key, expires_at=expires_at, notification_id=notification_id).save(
            condition=NonceRecord.nonce_key.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        earlier = NonceRecord.get(key, consistent_read=True)
        return earlier.notification_id or ""
    return None


def release_event(key: str, *, notification_id: str) -> None:
    """Forget an event claim whose notification could not be accepted, so the instance may
    send it again (only the claim that named `notification_id`)."""
    try:
        NonceRecord(key).delete(condition=NonceRecord.notification_id == notification_id)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
