"""Gateway instances' validated well-known documents, shared by every container until they
expire. They live in the Counters table (keys `wellknown#<domain>`, expiring through TTL).
Public keys only: nothing here is secret."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from pushgate.storage.base import table_meta


class WellKnownRecord(Model):
    """The item (storage only)."""

    Meta = table_meta("counters_table_name")

    counter_key = UnicodeAttribute(hash_key=True)  # wellknown#<domain>
    document = UnicodeAttribute()  # the validated fields as JSON
    fetched_at = NumberAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True, slots=True)
class StoredDocument:
    document: str  # the validated fields as JSON
    fetched_at: float
    expires_at: float


def wellknown_key(domain: str) -> str:
    return f"wellknown#{domain}"


def load(domain: str) -> StoredDocument | None:
    """The document stored for `domain`, read consistently, or None (past its expiry too:
    TTL deletes lazily)."""
    try:
        record = WellKnownRecord.get(wellknown_key(domain), consistent_read=True)
    except WellKnownRecord.DoesNotExist:
        return None
    return StoredDocument(record.document, float(record.fetched_at), float(record.expires_at))


def save(domain: str, stored: StoredDocument) -> None:
    WellKnownRecord(
        wellknown_key(domain),
        document=stored.document,
        fetched_at=stored.fetched_at,
        expires_at=int(stored.expires_at),
    ).save()
