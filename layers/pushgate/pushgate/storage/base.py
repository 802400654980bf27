"""What every table model shares: its name comes from settings when first used, not at import."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import ClassVar

from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from pushgate.errors import ConflictError
from pushgate.settings import Settings, get_settings

# Connections each table's botocore client keeps (PynamoDB's default, botocore's, is 10): the
# deliver function has up to a batch's worth of calls to one table in flight at once
# (pushgate.delivery.threads), and a call beyond the pool waits for a connection to free.
MAX_POOL_CONNECTIONS = 32


class WriteConflictError(ConflictError):
    """A conditional write found the item other than expected: another request changed it
    first. Services re-read and decide (retry, or answer 409)."""

    default_code = "conflict"


class LazyTableMeta(type):
    """PynamoDB reads `Meta.table_name` on each connection; this reads it from settings then.

    The endpoint is botocore's own `AWS_ENDPOINT_URL` handling, as for every boto3 client."""

    settings_field: ClassVar[str]

    @property
    def table_name(cls) -> str:
        return getattr(get_settings(), cls.settings_field)

    @property
    def region(cls) -> str | None:
        return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def table_meta(settings_field: str) -> type:
    """A PynamoDB `Meta` class whose table name is `Settings.<settings_field>`."""
    if settings_field not in Settings.model_fields:
        raise ValueError(f"unknown settings field {settings_field}")
    return LazyTableMeta(
        "Meta",
        (),
        {"settings_field": settings_field, "max_pool_connections": MAX_POOL_CONNECTIONS},
    )


def transaction() -> TransactWrite:
    """A DynamoDB transaction across pushgate's tables (all in one region)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return TransactWrite(connection=_connection(region, os.environ.get("AWS_ENDPOINT_URL")))


@cache
def _connection(region: str | None, endpoint_url: str | None) -> Connection:
    """One connection per container, as each model keeps its own: a new one builds a botocore
    session and client (tens of ms of CPU) on every registration and every dead-token removal.
    Keyed by the endpoint too, so an environment pointed elsewhere gets its own."""
    return Connection(region=region, max_pool_connections=MAX_POOL_CONNECTIONS)


def is_condition_failure(error: PynamoDBException) -> bool:
    """True when a write failed only because a condition did not hold."""
    if error.cause_response_code == "ConditionalCheckFailedException":
        return True
    reasons = getattr(error, "cancellation_reasons", None) or []
    return error.cause_response_code == "TransactionCanceledException" and any(
        reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons
    )


def conditional(write: Callable[[], object]) -> bool:
    """Run a conditional write: True when it went through, False when only its condition did
    not hold (anything else raises)."""
    try:
        write()
    except PynamoDBException as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True
