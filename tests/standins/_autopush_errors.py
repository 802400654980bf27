"""The refusals of Mozilla's push service (autopush-rs `autoendpoint`), worded as it words them:
`{"code", "errno", "error", "message", "more_info"}` (autoendpoint/src/error.rs,
`impl Serialize for ApiError`) with the status and errno of the `ApiErrorKind` it raises
(`ApiErrorKind::status`, `ApiErrorKind::errno`; the errno table is docs/src/errors.md)."""

from __future__ import annotations

from http import HTTPStatus

from tests.standins._server import Refusal, Response

MORE_INFO = "http://autopush.readthedocs.io/en/latest/http.html#error-codes"

# (status, errno) per ApiErrorKind, as autoendpoint/src/error.rs maps them.
INVALID_TOKEN = (404, 102)  # the endpoint's token does not decrypt: "Invalid token"
NO_SUBSCRIPTION = (410, 106)  # the channel was unregistered: "No such subscription"
PAYLOAD_TOO_LARGE = (413, 104)  # body over max_data_bytes (actix PayloadError::Overflow)
VAPID = (401, 109)  # every VapidError and jsonwebtoken error (signature, aud, exp, key)
INVALID_ENCRYPTION = (400, 110)  # Content-Encoding missing or unknown, stray crypto headers
NO_TTL = (400, 111)  # "Missing TTL value": absent or not an integer
INVALID_TOPIC = (400, 113)  # NotificationHeaders validation, code "113"
NEGATIVE_TTL = (400, 114)  # NotificationHeaders validation, code "114"


def refusal(kind: tuple[int, int], message: str) -> Refusal:
    status, errno = kind
    body = {
        "code": status,
        "errno": errno,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "more_info": MORE_INFO,
    }
    headers = (("cache-control", "max-age=86400"),) if status == 410 else ()
    return Refusal(Response.json(status, body, headers), f"errno {errno}: {message}")
