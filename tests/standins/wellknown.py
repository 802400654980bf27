"""A stand-in for a gateway instance's web server: it serves
`/.well-known/takos-push.json`, and can misbehave the ways pushgate must refuse (redirects,
oversized or malformed documents, other key types) or rotate the keys it publishes.

    with WellKnownServer() as server:
        server.publish(client.wellknown())
        server.redirect("https://elsewhere.example/doc.json")
        assert server.fetches() == 2
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from tests.standins._server import Reply, Request, Response, StandinServer

WELL_KNOWN_PATH = "/.well-known/takos-push.json"
JSON_TYPE = ("content-type", "application/json")


@dataclass(frozen=True, slots=True)
class Fetch:
    """One GET of the document (the fields StandinServer's recording expects)."""

    host: str
    status: int

    @property
    def device(self) -> str:
        return self.host

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def notification_id(self) -> str | None:
        return None


class WellKnownServer(StandinServer[Fetch]):
    """Answers GET /.well-known/takos-push.json with whatever was configured last (404 until
    something is). HTTP/1.1 only, like most instance web servers; `tls=True` for https."""

    def __init__(self, *, tls: bool = False) -> None:
        super().__init__(tls=tls, http2=False)
        self._reply_lock = threading.Lock()
        self._reply: Response = Response(404, b"not found")

    def publish(self, document: dict[str, Any]) -> None:
        """Serve `document` as JSON (for example `GatewayClient.wellknown()`)."""
        self.answer(Response(200, json.dumps(document).encode(), (JSON_TYPE,)))

    def redirect(self, location: str, status: int = 302) -> None:
        self.answer(Response(status, b"", (("location", location),)))

    def oversized(self, document: dict[str, Any], size: int) -> None:
        """A valid document padded with whitespace to `size` bytes."""
        body = json.dumps(document).encode()
        self.answer(Response(200, body + b" " * max(0, size - len(body)), (JSON_TYPE,)))

    def malformed(self) -> None:
        self.answer(Response(200, b'{"instance": "x", "registrationPublicKey": ', (JSON_TYPE,)))

    def answer(self, reply: Response) -> None:
        with self._reply_lock:
            self._reply = reply

    def fetches(self) -> int:
        """How many times the document was requested."""
        return len(self.received())

    async def handle(self, request: Request) -> Reply:
        if request.method != "GET" or request.path != WELL_KNOWN_PATH:
            return Response(404, b"not found")
        with self._reply_lock:
            reply = self._reply
        self._record(Fetch(request.header("host") or "", reply.status))
        return reply
