"""What the browser loads: a test page and clients/web/ on one origin of 127.0.0.1 (a secure
context, as `localhost` is, so service workers and push work over plain http), calling
pushgate's API on its own origin, cross-origin as a tenant's page does (the browser-facing
routes answer CORS: docs/web-push-client.md, "Origins and CORS"), and a recorder on another
origin for the worker's cross-origin reports."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from tests.standins._recording import Recording

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "web"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pushgate web client test</title></head>
<body><h1>pushgate web client test</h1>
<script type="module">
import * as pushgate from "/pushgate.js";
const query = new URLSearchParams(location.search);
window.pushgateTest = {
  state: () => pushgate.permissionState(),
  // The token is handed over by the test (never in the URL), the rest is the page's config.
  subscribe: async (token) =>
    JSON.stringify(await pushgate.subscribe({
      apiBase: query.get("api"), appId: query.get("app"), getToken: async () => token,
    })),
  unsubscribe: async (token) =>
    JSON.stringify(await pushgate.unsubscribe({
      apiBase: query.get("api"), appId: query.get("app"), getToken: async () => token,
    })),
};
document.body.dataset.ready = "1";
</script></body></html>
"""
TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Running:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _SiteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            body, kind = PAGE.encode(), TYPES[".html"]
        elif path in ("/pushgate.js", "/pushgate-sw.js"):
            body, kind = (CLIENT_DIR / path[1:]).read_bytes(), TYPES[".js"]
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.send_header("cache-control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Site(_Running):
    """The page at `{origin}/?api=<api_url>&app=<appId>` with the two client files."""

    def __init__(self, api_url: str) -> None:
        super().__init__(_SiteHandler)
        self.api_base = api_url.rstrip("/")

    def page(self, app_id: str) -> str:
        return f"{self.origin}/?api={self.api_base}&app={app_id}"


@dataclass(frozen=True, slots=True)
class Report:
    path: str
    body: Any  # the parsed JSON, or None for an empty body
    origin: str | None
    content_type: str | None


class _RecorderHandler(BaseHTTPRequestHandler):
    reports: ClassVar[Recording[Report]]

    def do_OPTIONS(self) -> None:
        # As the interactions route answers: any origin, no credentials, JSON bodies.
        self.send_response(204)
        self._cors()
        self.send_header("access-control-allow-methods", "POST")
        self.send_header("access-control-allow-headers", "content-type")
        self.end_headers()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.loads(raw) if raw else None
        self.reports.append(
            Report(self.path, body, self.headers.get("origin"), self.headers.get("content-type"))
        )
        self.send_response(200)
        self._cors()
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def _cors(self) -> None:
        self.send_header("access-control-allow-origin", "*")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Recorder(_Running):
    """Records every POST (path and JSON body) on its own origin, answering CORS as
    pushgate's interactions route does."""

    def __init__(self) -> None:
        self._reports: Recording[Report] = Recording(1000)
        handler = type("Handler", (_RecorderHandler,), {"reports": self._reports})
        super().__init__(handler)

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def reports(self) -> tuple[Report, ...]:
        return self._reports.items()

    def wait_for(self, count: int, timeout: float = 20) -> tuple[Report, ...]:
        return self._reports.wait(lambda reports: len(reports) >= count, timeout)
