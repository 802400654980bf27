"""`Idempotency-Key` for sends, on Powertools idempotency: the same key and body within 24 h
replay the first response; the same key with another body is 422; a request still running
under the key is 409. Keys are scoped to the app, so tenants cannot collide."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from pushgate.errors import ConflictError, IdempotencyMismatchError
from pushgate.settings import get_settings

T = TypeVar("T")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@cache
def _idempotent_call() -> Callable[..., Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)
    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        raise_on_no_idempotency_key=True,
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config
    )
    def call(request: dict[str, Any], operation: Callable[[], Any]) -> Any:
        return operation()

    return call


def run_once(*, app_id: str, key: str, body: Any, operation: Callable[[], T]) -> T:
    """Run `operation` once per (app, key); later calls with the same body get its result."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    try:
        return _idempotent_call()(
            request={"scope": f"{app_id}\n{key}", "body": body}, operation=operation
        )
    except IdempotencyValidationError:
        raise IdempotencyMismatchError(
            "this Idempotency-Key was used with a different body"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ConflictError(
            "a request with this Idempotency-Key is still in progress", code="request_in_progress"
        ) from None
