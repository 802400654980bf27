"""API Gateway HTTP API behaviour: route selection, the payload v2.0 event, and turning a
function's result into an HTTP response."""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.cfn import ACCOUNT_ID
from local.template import DEFAULT_ROUTE, HttpRoute

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "HttpRequest",
    "HttpResponse",
    "MalformedResponseError",
    "Router",
    "build_event",
    "error_response",
    "new_request_id",
    "to_http_response",
]

# Lambda's synchronous invocation payload limit.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

# Content types API Gateway passes as text; anything else is binary and base64-encoded.
_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
    "application/yaml",
    "application/x-yaml",
    "application/graphql",
)

_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class HttpRequest:
    """A request as the local server received it (path and query still raw)."""

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # The route that answered (`POST /push/approvals/{approval_id}/decisions/{token}`): what
    # the request log shows, since a path may carry a capability token.
    route_key: str | None = None


class MalformedResponseError(Exception):
    """The function returned something API Gateway cannot turn into a response."""


def new_request_id() -> str:
    """An id shaped like API Gateway's (`apigw-requestid`), e.g. `Yx3lHi_QIAMEaYg=`."""
    return base64.b64encode(os.urandom(11)).decode().replace("+", "_").replace("/", "-")


def error_response(status: int, code: str, message: str) -> HttpResponse:
    """The project's one error shape: `{"error": {"code": ..., "message": ...}}`."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRoute
    segments: tuple[tuple[int, str], ...]

    @classmethod
    def compile(cls, route: HttpRoute) -> _CompiledRoute:
        segments = []
        if route.path != DEFAULT_ROUTE:
            for segment in route.path.split("/")[1:]:
                if segment.startswith("{") and segment.endswith("+}"):
                    segments.append((_GREEDY, segment[1:-2]))
                elif segment.startswith("{") and segment.endswith("}"):
                    segments.append((_PARAMETER, segment[1:-1]))
                else:
                    segments.append((_LITERAL, segment))
        return cls(route, tuple(segments))

    @property
    def specificity(self) -> tuple[Any, ...]:
        # API Gateway prefers full literal paths, then path variables, then greedy variables,
        # compared from the left; a named method beats ANY; $default comes last.
        if self.route.path == DEFAULT_ROUTE:
            return (1, (), 1)
        return (0, tuple(kind for kind, _ in self.segments), int(self.route.method == "ANY"))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if self.route.path == DEFAULT_ROUTE:
            return {}
        parameters: dict[str, str] = {}
        for index, (kind, text) in enumerate(self.segments):
            value = parts[index] if index < len(parts) else None
            if kind == _GREEDY:
                rest = parts[index:]
                # {proxy+} takes the rest of the path: at least a trailing slash (API Gateway
                # routes `/console/` to `GET /console/{proxy+}`, and accepts no route path
                # ending in `/`), never nothing at all (`/console`).
                if not rest:
                    return None
                parameters[text] = unquote("/".join(rest))
                return parameters
            if value is None or (kind == _PARAMETER and not value):
                return None
            if kind == _PARAMETER:
                parameters[text] = unquote(value)
            elif unquote(value) != text:
                return None
        return parameters if len(parts) == len(self.segments) else None


class Router:
    """Picks the route API Gateway would pick for a method and raw path."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        compiled = [_CompiledRoute.compile(route) for route in routes]
        self._routes = sorted(compiled, key=lambda item: item.specificity)

    @property
    def routes(self) -> list[HttpRoute]:
        return [item.route for item in self._routes]

    def match(self, method: str, raw_path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        parts = raw_path.split("/")[1:] if raw_path.startswith("/") else raw_path.split("/")
        for item in self._routes:
            if item.route.method not in (method.upper(), "ANY"):
                continue
            parameters = item.match(parts)
            if parameters is not None:
                return item.route, parameters
        return None


# --------------------------------------------------------------------------- event


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        not media_type
        or media_type.startswith("text/")
        or media_type in _TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def build_event(
    request: HttpRequest,
    route: HttpRoute,
    path_parameters: dict[str, str],
    *,
    api_id: str,
    request_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for a request."""
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", "127.0.0.1")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", host.rpartition(":")[2] if ":" in host else "80")
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}")
    domain_name = host.rsplit(":", 1)[0] if ":" in host else host
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0] if not _is_ip(domain_name) else domain_name,
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if request.body:
        text = _decode_text(request.body) if _is_text(headers.get("content-type", "")) else None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
            event["isBase64Encoded"] = False
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["stageVariables"] = None
    return event


def _decode_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host


# --------------------------------------------------------------------------- response


def to_http_response(result: Any) -> HttpResponse:
    """Interprets a function's result by the payload v2.0 rules."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: API Gateway assumes 200, JSON, and the result itself as the body.
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], body.encode())

    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode must be an HTTP status, got {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if isinstance(value, (dict, list)):
            raise MalformedResponseError(f"header {name!r} must be a string")
        headers.append((str(name), _header_text(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise MalformedResponseError("body must be a string")
    elif result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponseError("isBase64Encoded body is not base64") from exc
    else:
        payload = body.encode()
    return HttpResponse(status, headers, payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
