"""A tenant's webhook receiver: records every receipt POST with its headers and body, and
answers what a test scripts (per path): 200 by default, any status, `Retry-After`, or reset."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.standins._script import OK, RESET, Behaviour, Script, as_script
from tests.standins._server import RESET as RESET_REPLY
from tests.standins._server import Reply, Request, Response, StandinServer

OUTCOMES = frozenset({OK, RESET, *range(200, 600)})


@dataclass(frozen=True, slots=True)
class WebhookCall:
    path: str
    headers: Mapping[str, str]
    body: bytes
    status: int  # what the receiver answered; 0 for a reset
    received_at: float

    @property
    def device(self) -> str:
        return self.path

    @property
    def notification_id(self) -> str | None:
        return self.json().get("notification_id")

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver(StandinServer[WebhookCall]):
    """`POST /<anything>`; `new_path(behaviour)` gives a fresh URL path with its own script."""

    def __init__(self, **options: Any) -> None:
        super().__init__(http2=False, **options)
        self._scripts: dict[str, Script] = {}
        self._state = threading.Lock()

    def new_url(self, behaviour: Behaviour | None = None) -> str:
        path = "/hooks/" + secrets.token_urlsafe(8)
        if behaviour is not None:
            self.script(path, behaviour)
        return self.url + path

    def script(self, path: str, behaviour: Behaviour) -> None:
        with self._state:
            self._scripts[path] = as_script(behaviour, OUTCOMES)

    def calls(self, url: str) -> tuple[WebhookCall, ...]:
        path = url.removeprefix(self.url)
        return tuple(call for call in self.received() if call.path == path)

    async def handle(self, request: Request) -> Reply:
        with self._state:
            script = self._scripts.get(request.path)
        step = script.next_step() if script is not None else None
        outcome = OK if step is None else step.outcome
        status = 200 if outcome == OK else 0 if outcome == RESET else int(outcome)
        self._record(
            WebhookCall(request.path, dict(request.headers), request.body, status, self.now())
        )
        if outcome == RESET:
            return RESET_REPLY
        headers = (("retry-after", str(step.retry_after)),) if step and step.retry_after else ()
        return Response(status, b"ok" if status == 200 else b"", headers)
