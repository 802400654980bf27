"""ntfy: JSON publishing to a device's ntfy server and topic."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from pushgate import clock
from pushgate.outbound import DEFAULT_DEADLINE_SECONDS, DEFAULT_TIMEOUT
from pushgate.providers import _http
from pushgate.providers.result import Outcome, parse_retry_after

# ntfy priorities: 1 min, 2 low, 3 default, 4 high, 5 max (urgent).
PRIORITIES = {"very-low": 1, "low": 2, "normal": 3, "high": 5}
DEFAULT_PRIORITY = 3
# ntfy's own topic rule.
_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")


def split_topic_url(url: str) -> tuple[str, str] | None:
    """`https://server/topic` → (`https://server/`, `topic`); a path prefix stays with the
    server (`https://host/ntfy/topic` → `https://host/ntfy/`). None when it is not one."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        return None
    prefix, _, topic = parts.path.rpartition("/")
    if not _TOPIC.fullmatch(topic):
        return None
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/", "", "")), topic


class NtfySender:
    """Publishes one message to one ntfy topic."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        now: Callable[[], float] = clock.epoch,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._deadline = deadline
        self._now = now

    async def send(
        self,
        *,
        url: str,
        access_token: str | None,
        title: str | None,
        body: str | None,
        click_url: str | None,
        urgency: str | None,
        tags: Sequence[str] | None,
        actions: Sequence[Mapping[str, Any]] = (),
    ) -> Outcome:
        """Publish to the topic named by the device's `url`. Never raises for the server's
        answer or the network."""
        target = split_topic_url(url)
        if target is None:
            return Outcome.invalid_token("ntfy:invalid_topic_url")
        server, topic = target
        message: dict[str, Any] = {
            "topic": topic,
            "message": body or "",
            "priority": PRIORITIES.get(urgency or "", DEFAULT_PRIORITY),
        }
        if title is not None:
            message["title"] = title
        if click_url:
            message["click"] = click_url
        if tags:
            message["tags"] = list(tags)
        if actions:
            message["actions"] = [dict(action) for action in actions]
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        try:
            reply = await _http.post(
                self._client,
                server,
                headers=headers,
                json=message,
                timeout=self._timeout,
                deadline=self._deadline,
            )
        except _http.TRANSPORT_ERRORS as error:
            return _http.transport_outcome(error)
        return self._classify(reply)

    def _classify(self, reply: _http.Reply) -> Outcome:
        status = reply.status_code
        if 200 <= status < 300:
            return Outcome.delivered(status)
        reason = f"ntfy:{status}"
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"), now=self._now())
            return Outcome.retry(reason, status, retry_after)
        # 401/403 (token refused), 404 and every other 4xx: the device's settings are wrong,
        # and the topic may come back, so it is a failure rather than a dead token.
        return Outcome.failed(reason, status)
