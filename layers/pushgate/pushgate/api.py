"""The one resolver factory: every HTTP function gets the same routing, validation and errors.
(SQS-triggered functions use `pushgate.worker` and never load the HTTP router.)

Domain errors map to the one `{"error": {"code", "message"}}` shape here and nowhere else;
validation errors are sanitised (no input values echoed: they may be tokens or secrets);
unknown routes are JSON 404s; every response carries the API Gateway request id.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from pushgate import snapstart
from pushgate.errors import PushgateError
from pushgate.observability import logger, metrics, tracer

T = TypeVar("T")

REQUEST_ID_HEADER = "x-request-id"
# How long a browser may reuse a preflight's answer (Chromium caps it at 2 h, Firefox at 24).
CORS_MAX_AGE_SECONDS = 7200
BEARER = [{"bearerAuth": []}]
_MAX_REPORTED_VALIDATION_ERRORS = 5
# No request model nests deeper than a few levels; Python's JSON parser recurses per level and
# fails (RecursionError, a 500) somewhere past a thousand, so deeper bodies are refused first.
MAX_JSON_DEPTH = 32
# A string from its opening quote to its closing one, or to the end of the text when it never
# closes (then the text is not JSON; the parser refuses it). Possessive quantifiers never give
# back, so every string matches in one go and `sub` reads each character once: a pattern that
# could fail at an unterminated string would be retried at every later quote (quadratic).
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_LEVEL_CHANGE = {"[": 1, "{": 1, "]": -1, "}": -1}
_ERROR_DESCRIPTIONS = {
    400: "Bad input",
    401: "Missing or invalid token",
    403: "Not allowed, or push disabled",
    404: "Not found (also for resources owned by someone else)",
    409: "Conflict or replay",
    410: "Gone: too late for this",
    413: "Payload too large",
    415: "Body is not JSON",
    422: "Idempotency key reused with a different body",
    429: "Quota or rate limit exceeded; see Retry-After",
    503: "A service pushgate depends on is unavailable; nothing was changed, try again",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(description="snake_case error code")
    message: str = Field(description="human-readable explanation")


class ErrorResponse(BaseModel):
    """Every error pushgate returns has this shape."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for a route's error statuses (400 and 415 are added for every route:
    any request can be malformed)."""
    documented = sorted({400, 415, *statuses})
    return {
        status: {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
        for status in documented
    }


def ok_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for a route answering 200 with its return model (Powertools fills in
    the schema of an entry given without content), plus its error statuses."""
    return {200: {"description": "OK"}, **error_responses(*statuses)}


def created_or_ok(body: T, *, created: bool) -> Response[T]:
    """201 with `body` for what the request made, 200 for what it found as it was."""
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=body,
    )


def no_content(description: str) -> dict[int, OpenAPIResponse]:
    """The OpenAPI entry for a 204: no body (else Powertools documents the return type)."""
    return {204: {"description": description, "content": {}}}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message}},
        headers=headers or {},
    )


def _describe_validation_error(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    if error.get("type") == "json_invalid":
        return "body: is not valid JSON"
    # pydantic's `msg` never contains the input value; `input` is deliberately not read.
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{location}: {message}"


def create_resolver(
    *, authenticated: bool = True, any_origin: bool = False
) -> APIGatewayHttpResolver:
    """A Powertools HTTP API resolver with pushgate's validation and error mapping.
    `authenticated=False` for a function whose routes take no bearer token at all;
    `any_origin=True` for functions whose routes pages of any origin call (CORS headers on
    every answer, errors included, without credentials: pushgate's callers present bearer
    tokens, never cookies). Powertools answers a preflight of any path that reaches the
    function, and preflights reach it only through the OPTIONS routes the template gives
    it: the HTTP API has no CORS configuration, so a route without one stays same-origin for
    any request that needs a preflight."""
    if authenticated:
        # Its routes verify a bearer token: load the verifier (PyJWT) while the function
        # initialises, not on its first request. SQS workers never build a resolver.
        import pushgate.auth.tokens  # noqa: F401

    cors = CORSConfig(allow_origin="*", max_age=CORS_MAX_AGE_SECONDS) if any_origin else None
    app = APIGatewayHttpResolver(enable_validation=True, cors=cors)

    @app.exception_handler(PushgateError)
    def _domain_error(exc: PushgateError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        described = [
            _describe_validation_error(e) for e in errors[:_MAX_REPORTED_VALIDATION_ERRORS]
        ]
        return error_response(400, "invalid_request", "; ".join(described) or "invalid request")

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        return error_response(415, "unsupported_media_type", "send the body as application/json")

    @app.not_found
    def _no_route(_: RouteNotFoundError) -> Response:
        event = app.current_event
        return error_response(404, "not_found", f"no route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        # Never a stack trace or a secret to the caller; the log has the details.
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")

    return app


def create_handler(
    app: APIGatewayHttpResolver, *, takes_body: bool = True
) -> Callable[[dict[str, Any], LambdaContext], dict]:
    """The Lambda entry point for a resolver: logging context, tracing, the metrics flushed
    (as `pushgate.worker` does for the SQS functions), request id header. With
    `takes_body=False` (routes that read no body) a request's body is dropped unread, whatever
    its type: the clients of such routes (ntfy's action buttons, service workers) send an
    empty or a text body. Under SnapStart, the routes' validation models are built before
    the snapshot (`pushgate.snapstart`)."""
    snapstart.install(lambda: snapstart.warm_routes(app))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict:
        if not takes_body:
            event = {**event, "body": None, "isBase64Encoded": False}
        if _has_non_json_body(event):
            # Powertools would parse a form body; pushgate speaks JSON only.
            response = _plain_error(
                415, "unsupported_media_type", "send the body as application/json"
            )
        elif problem := _unreadable_body(event):
            response = _plain_error(400, "invalid_request", problem)
        else:
            response = app.resolve(event, context)
        request_id = (event.get("requestContext") or {}).get("requestId")
        if request_id:
            response.setdefault("headers", {})[REQUEST_ID_HEADER] = request_id
        return response

    return lambda_handler


def _has_non_json_body(event: dict[str, Any]) -> bool:
    if not event.get("body"):
        return False
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    return media_type != "application/json" and not media_type.endswith("+json")


def _unreadable_body(event: dict[str, Any]) -> str | None:
    """Why the body cannot be JSON at all — not UTF-8 (API Gateway then hands it over base64
    encoded), or nested deeper than MAX_JSON_DEPTH — or None. Checked before Powertools
    decodes it, which would raise (and answer 500) on either."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "body: is not valid UTF-8"
    # Counting is cheap, and most bodies have too few brackets to be deep at all.
    if body.count("[") + body.count("{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
        return f"body: is nested deeper than {MAX_JSON_DEPTH} levels"
    return None


def json_depth(text: str) -> int:
    """How many arrays and objects JSON `text` opens inside one another at most (brackets in
    strings do not count), in linear time: unauthenticated callers choose the body.

    Strings are cut out in one pass, then the brackets left are summed in C (`accumulate`):
    10-150 ns per character whatever the shape (tests/unit/test_api_json_depth.py). On text
    that is not JSON the figure is at least as deep as the parser would go before failing."""
    brackets = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_LEVEL_CHANGE.__getitem__, brackets), initial=0))


def _plain_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"error": {"code": code, "message": message}}),
        "isBase64Encoded": False,
    }
