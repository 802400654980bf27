"""ntfy's error values (server/errors.go) and the JSON body it answers them with."""

from __future__ import annotations

from typing import Any

from tests.standins._server import Refusal, Response

# (code, http status, error, link), as ntfy's errHTTP values.
ErrorSpec = tuple[int, int, str, str]

_PUBLISH_DOCS = "https://ntfy.sh/docs/publish/"
BAD_REQUEST = (40000, 400, "invalid request", "")
EMAIL_DISABLED = (
    40001,
    400,
    "e-mail notifications are not enabled",
    "https://ntfy.sh/docs/config/#e-mail-notifications",
)
PRIORITY_INVALID = (40007, 400, "invalid priority parameter", f"{_PUBLISH_DOCS}#message-priority")
SINCE_INVALID = (
    40008,
    400,
    "invalid since parameter",
    "https://ntfy.sh/docs/subscribe/api/#fetch-cached-messages",
)
TOPIC_INVALID = (40009, 400, "invalid request: topic invalid", "")
ATTACHMENT_URL_INVALID = (
    40013,
    400,
    "invalid request: attachment URL is invalid",
    f"{_PUBLISH_DOCS}#attachments",
)
ATTACHMENTS_DISALLOWED = (
    40014,
    400,
    "invalid request: attachments not allowed",
    "https://ntfy.sh/docs/config/#attachments",
)
ACTIONS_INVALID = (
    40018,
    400,
    "invalid request: actions invalid",
    f"{_PUBLISH_DOCS}#action-buttons",
)
ICON_URL_INVALID = (40021, 400, "invalid request: icon URL is invalid", f"{_PUBLISH_DOCS}#icons")
JSON_INVALID = (40024, 400, "invalid request: request body must be valid JSON", "")
PERMISSION_INVALID = (40025, 400, "invalid request: incorrect permission string", "")
TIER_INVALID = (40030, 400, "invalid request: tier does not exist", "")
USER_NOT_FOUND = (40031, 400, "invalid request: user does not exist", "")
UNAUTHORIZED = (40101, 401, "unauthorized", f"{_PUBLISH_DOCS}#authentication")
FORBIDDEN = (40301, 403, "forbidden", f"{_PUBLISH_DOCS}#authentication")
NOT_FOUND = (40401, 404, "page not found", "")
USER_EXISTS = (40901, 409, "conflict: user already exists", "")
JSON_TOO_LARGE = (41303, 413, "JSON body too large", "")
TOO_MANY_REQUESTS = (
    42901,
    429,
    "limit reached: too many requests",
    f"{_PUBLISH_DOCS}#limitations",
)
INTERNAL_ERROR = (50001, 500, "internal server error", "")
INSUFFICIENT_STORAGE = (
    50701,
    507,
    "cannot publish to UnifiedPush topic without previously active subscriber",
    "",
)
# Not ntfy's own: what a proxy in front of it answers, in ntfy's shape for the stand-in's scripts.
BAD_GATEWAY = (50201, 502, "bad gateway", "")
SERVICE_UNAVAILABLE = (50301, 503, "service unavailable", "")

# What a scripted failure answers, by status.
SCRIPTED: dict[int, ErrorSpec] = {
    429: TOO_MANY_REQUESTS,
    500: INTERNAL_ERROR,
    502: BAD_GATEWAY,
    503: SERVICE_UNAVAILABLE,
    507: INSUFFICIENT_STORAGE,
}


def wrap(spec: ErrorSpec, detail: str) -> ErrorSpec:
    """errHTTP.Wrap: ntfy appends "; detail" to the message and keeps code and status."""
    code, status, error, link = spec
    return (code, status, f"{error}; {detail}", link)


def error_body(spec: ErrorSpec) -> dict[str, Any]:
    code, status, error, link = spec
    body: dict[str, Any] = {"code": code, "http": status, "error": error}
    if link:
        body["link"] = link
    return body


def error_response(spec: ErrorSpec, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response.json(spec[1], error_body(spec), headers)


def refusal(spec: ErrorSpec, reason: str | None = None) -> Refusal:
    return Refusal(error_response(spec), reason or spec[2])
