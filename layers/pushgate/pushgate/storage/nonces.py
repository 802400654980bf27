"""The Nonces table: gateway-client nonces, each accepted once.

Key: `nonce_key` = `<instance>#<nonce>` (instance names and nonces cannot contain `#`). Items
expire through TTL shortly after the signed request they came with, which can no longer
be replayed by then anyway.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class NonceRecord(Model):
    Meta = table_meta("nonces_table_name")

    nonce_key = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()


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
