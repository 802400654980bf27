"""The console function's answers: files (with ETag revalidation and HEAD), the console's
configuration, the redirect from /console to /console/, and 405 for other methods."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from pushgate.api import error_response
from pushgate.console.assets import Asset
from pushgate.console.headers import security_headers
from pushgate.console.models import ConsoleConfigResponse
from pushgate.console.site import CONSOLE, OPENAPI, load_site
from pushgate.settings import get_settings

READ_METHODS = ("GET", "HEAD")
CONFIG = CONSOLE + "config.json"
WEB_CLIENT = CONSOLE + "lib/pushgate.js"


@dataclass(frozen=True, slots=True)
class ConsoleRequest:
    """What the console's answers depend on in a request."""

    method: str
    path: str
    query: str
    if_none_match: str | None
    origin: str

    @classmethod
    def from_event(cls, event: APIGatewayProxyEventV2) -> ConsoleRequest:
        headers = {key.lower(): value for key, value in (event.headers or {}).items()}
        host = headers.get("host") or event.request_context.domain_name
        proto = headers.get("x-forwarded-proto", "https")
        return cls(
            method=event.request_context.http.method.upper(),
            path=event.raw_path,
            query=event.raw_query_string,
            if_none_match=headers.get("if-none-match"),
            origin=f"{proto}://{host}",
        )


def _headers(**extra: str) -> dict[str, str]:
    return {**security_headers(get_settings().console_issuer), **extra}


def _etag_matches(asset: Asset, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or asset.etag in candidates


def file_response(asset: Asset, request: ConsoleRequest, **extra: str) -> Response:
    headers = _headers(**{"Cache-Control": asset.cache_control, "ETag": asset.etag}, **extra)
    if _etag_matches(asset, request.if_none_match):
        return Response(status_code=304, headers=headers, body="")
    body: str | bytes = asset.body.decode("utf-8") if asset.is_text else asset.body
    return Response(
        status_code=200,
        content_type=asset.content_type,
        headers=headers,
        body="" if request.method == "HEAD" else body,
    )


def answer_page(function_dir: Path, request: ConsoleRequest) -> Response:
    """/, /docs and /openapi.json (which anyone may read from anywhere: it is public)."""
    asset = load_site(function_dir).page(request.path)
    if request.path == OPENAPI:
        return file_response(asset, request, **{"Access-Control-Allow-Origin": "*"})
    return file_response(asset, request)


def answer_console(function_dir: Path, request: ConsoleRequest) -> Response:
    """Everything under /console: its configuration, its files, the app for the rest."""
    if request.path == CONSOLE.rstrip("/"):
        location = CONSOLE + (f"?{request.query}" if request.query else "")
        return Response(status_code=308, headers=_headers(Location=location), body="")
    if request.path == CONFIG:
        return _config_response(function_dir, request)
    return file_response(load_site(function_dir).console_file(request.path), request)


def console_config(function_dir: Path, request: ConsoleRequest) -> ConsoleConfigResponse:
    settings = get_settings()
    api_base = (settings.public_api_url or request.origin).rstrip("/")
    return ConsoleConfigResponse(
        issuer=settings.console_issuer,
        client_id=settings.console_client_id,
        api_base=api_base,
        redirect_uri=api_base + CONSOLE,
        managed_ntfy=bool(settings.ntfy_server_url),
        web_client=WEB_CLIENT in load_site(function_dir).paths,
    )


def _config_response(function_dir: Path, request: ConsoleRequest) -> Response:
    body = console_config(function_dir, request).model_dump_json()
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        headers=_headers(**{"Cache-Control": "no-store"}),
        body="" if request.method == "HEAD" else body,
    )


def not_allowed(request: ConsoleRequest) -> Response:
    response = error_response(
        405, "method_not_allowed", f"{request.path} answers {' and '.join(READ_METHODS)} only"
    )
    response.headers["Allow"] = ", ".join(READ_METHODS)
    return response
