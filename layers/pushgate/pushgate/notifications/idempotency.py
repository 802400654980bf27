"""`Idempotency-Key` for sends, on Powertools idempotency: the same key and body within 24 h
replay the first response; the same key with another body is 422; a request still running
under the key is 409. Keys are scoped to the app, so tenants cannot collide.

Each call registers the invocation's Lambda context, so a request's record says how long it
may run: a send whose invocation dies (timeout, crash) leaves its record in progress, and
without that deadline every retry with its key would be 409 until the record expired (24 h).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pushgate.errors import ConflictError, IdempotencyMismatchError
from pushgate.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.typing import LambdaContext

T = TypeVar("T")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@cache
def _idempotent_call() -> tuple[Callable[..., Any], IdempotencyConfig]:
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

    return call, config


def run_once(
    *,
    app_id: str,
    key: str | None,
    body: Any,
    operation: Callable[[], T],
    lambda_context: LambdaContext,
) -> T:
    """Run `operation` once per (app, key); later calls with the same body get its result
    (without a key, it just runs). `lambda_context` is the running invocation's: its
    remaining time bounds the record's in-progress state."""
    if key is None:
        return operation()
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    call, config = _idempotent_call()
    config.register_lambda_context(lambda_context)
    try:
        return call(request={"scope": f"{app_id}\n{key}", "body": body}, operation=operation)
    except IdempotencyValidationError:
        raise IdempotencyMismatchError(
            "this Idempotency-Key was used with a different body"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ConflictError(
            "a request with this Idempotency-Key is still in progress", code="request_in_progress"
        ) from None
