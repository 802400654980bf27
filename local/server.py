"""The local HTTP front door: API Gateway for the template's routes, plus the dev issuer's
`/_local/*` endpoints."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.apigw import (
    MAX_PAYLOAD_BYTES,
    HttpRequest,
    HttpResponse,
    MalformedResponseError,
    Router,
    build_event,
    error_response,
    new_request_id,
    to_http_response,
)
from local.errors import InvocationError
from local.issuer import DevIssuer, DevIssuers, TokenRequestError
from local.oidc import AuthorizationServer
from local.template import HttpRoute

__all__ = ["LocalApi", "LocalHttpServer"]

logger = logging.getLogger(__name__)

Invoke = Callable[[str, Any], Any]

# A body this far over the limit is not drained before answering 413: the connection closes.
_DRAIN_LIMIT = 4 * MAX_PAYLOAD_BYTES
# Error codes for what http.server refuses before a request is complete.
_REFUSALS = {
    HTTPStatus.REQUEST_URI_TOO_LONG: "uri_too_long",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "headers_too_large",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "http_version_not_supported",
}


class PayloadTooLargeError(Exception):
    """The request body is over the Lambda payload limit."""

    def __init__(self, drained: bool) -> None:
        super().__init__("request body too large")
        self.drained = drained


def _json(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(
        status, [("content-type", "application/json")], json.dumps(payload).encode()
    )


class LocalApi:
    """Answers one request: `/_local/*` from the issuer, anything else through the router
    to a function, the way API Gateway would."""

    def __init__(
        self,
        *,
        router: Router,
        invoke: Invoke,
        issuers: DevIssuers,
        api_id: str,
        sign_in: AuthorizationServer | None = None,
    ) -> None:
        self.router = router
        self._invoke = invoke
        self._issuers = issuers
        self._api_id = api_id
        self._sign_in = sign_in

    def handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if request.raw_path.startswith("/_local/"):
            return self._local(request)
        match = self.router.match(request.method, request.raw_path)
        if match is None:
            return error_response(
                404, "not_found", f"no route for {request.method} {request.raw_path}"
            )
        route, path_parameters = match
        event = build_event(
            request, route, path_parameters, api_id=self._api_id, request_id=request_id
        )
        response = self._answer(route, event)
        response.route_key = route.route_key
        return response

    def _answer(self, route: HttpRoute, event: Any) -> HttpResponse:
        try:
            result = self._invoke(route.function_id, event)
        except InvocationError as exc:
            logger.warning("%s: %s", route.route_key, exc)
            return error_response(
                502,
                "internal_error",
                f"{exc.function_id} failed ({exc.error_type}); see its log for details",
            )
        try:
            return to_http_response(result)
        except MalformedResponseError as exc:
            logger.warning("%s returned a malformed response: %s", route.function_id, exc)
            return error_response(
                502, "internal_error", f"{route.function_id} returned a malformed response: {exc}"
            )

    def _local(self, request: HttpRequest) -> HttpResponse:
        path, method = request.raw_path, request.method.upper()
        endpoints: dict[str, dict[str, Callable[[], HttpResponse]]] = {
            "/_local/token": {"POST": lambda: self._token(request)},
            "/_local/health": {"GET": lambda: _json(200, {"status": "ok"})},
        }
        for issuer in self._issuers:
            endpoints.update(_issuer_endpoints(issuer))
        if self._sign_in is not None:
            endpoints.update(_sign_in_endpoints(self._sign_in, request))
        if path not in endpoints:
            return error_response(404, "not_found", f"no route for {method} {path}")
        methods = endpoints[path]
        if method == "HEAD" and "GET" in methods:
            method = "GET"
        if method not in methods:
            allowed = ", ".join(methods)
            response = error_response(405, "method_not_allowed", f"use {allowed} {path}")
            response.headers.append(("allow", allowed))
            return response
        return methods[method]()

    def _token(self, request: HttpRequest) -> HttpResponse:
        try:
            return _json(200, self._issuers.token_response(request.body))
        except TokenRequestError as exc:
            return error_response(400, "invalid_request", str(exc))


def _issuer_endpoints(issuer: DevIssuer) -> dict[str, dict[str, Callable[[], HttpResponse]]]:
    """An issuer's JWKS and discovery document, under its own path."""
    base = urlsplit(issuer.issuer_url).path
    discovery = {"issuer": issuer.issuer_url, "jwks_uri": issuer.jwks_url}
    return {
        f"{base}/jwks.json": {"GET": lambda: _json(200, issuer.jwks)},
        f"{base}/.well-known/openid-configuration": {"GET": lambda: _json(200, discovery)},
    }


def _sign_in_endpoints(
    server: AuthorizationServer, request: HttpRequest
) -> dict[str, dict[str, Callable[[], HttpResponse]]]:
    """The browser sign-in of the issuer that has one: its discovery document names them."""
    base = urlsplit(server.issuer.issuer_url).path
    return {
        f"{base}/.well-known/openid-configuration": {"GET": lambda: _json(200, server.discovery)},
        f"{base}/authorize": {
            "GET": lambda: server.authorize(request),
            "POST": lambda: server.authorize(request),
        },
        f"{base}/oauth/token": {"POST": lambda: server.token(request)},
    }


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle on, keep-alive clients wait for
    # a delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    server: LocalHttpServer

    def version_string(self) -> str:
        return "pushgate-local"

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        started = time.monotonic()
        request_id = new_request_id()
        try:
            body = self._read_body()
        except PayloadTooLargeError as exc:
            if not exc.drained:
                self.close_connection = True
            response = error_response(
                413, "payload_too_large", f"request body is over {MAX_PAYLOAD_BYTES} bytes"
            )
        except ValueError as exc:
            self.close_connection = True
            response = error_response(400, "bad_request", str(exc))
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            response = self.server.api.handle(request, request_id)
        self._write(response, request_id)
        # The route, not the target: a path may carry a capability token (decision and
        # interaction URLs) and a query a one-time credential (the sign-in's `code`).
        logger.info(
            "%s -> %d (%.0f ms)",
            response.route_key or f"{self.command} {self.path.split('?', 1)[0]}",
            response.status,
            (time.monotonic() - started) * 1000,
        )

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("content-length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise ValueError("invalid Content-Length") from None
        if length > MAX_PAYLOAD_BYTES:
            # Read it anyway (within reason) so the client, still sending, gets the 413.
            drained = length <= _DRAIN_LIMIT
            if drained:
                self._discard(length)
            raise PayloadTooLargeError(drained)
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                return
            length -= len(chunk)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        total = 0
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise ValueError("invalid chunked body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                break
            total += size
            if total > _DRAIN_LIMIT:
                raise PayloadTooLargeError(drained=False)
            chunk = self.rfile.read(size)
            self.rfile.readline(8)  # the CRLF after each chunk
            if total <= MAX_PAYLOAD_BYTES:
                body += chunk
        if total > MAX_PAYLOAD_BYTES:
            raise PayloadTooLargeError(drained=True)
        return bytes(body)

    def _write(self, response: HttpResponse, request_id: str) -> None:
        try:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if "apigw-requestid" not in names:
                self.send_header("apigw-requestid", request_id)
            self.send_header("content-length", str(len(response.body)))
            if self.close_connection:
                self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a header line over 64 KB, over 100 headers, a malformed
        request line, a method no route can have) in the one error shape, like the rest of
        the API; a method without a handler is API Gateway's 404, not http.server's 501."""
        if code == HTTPStatus.NOT_IMPLEMENTED:
            response = error_response(404, "not_found", f"no route for {self.command} {self.path}")
        else:
            text = explain or message or HTTPStatus(code).phrase
            response = error_response(code, _REFUSALS.get(code, "bad_request"), text)
        self.close_connection = True
        self._write(response, new_request_id())

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


class LocalHttpServer(ThreadingHTTPServer):
    """A threading HTTP server on a socket the stack already bound."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, sock: socket.socket, api: LocalApi) -> None:
        super().__init__(sock.getsockname()[:2], _RequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()[:2]
        self.api = api
