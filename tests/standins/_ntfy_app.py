"""What the ntfy Android app sends when an `http` action button is tapped (ntfy-android
msg/UserActionWorker.kt performHttpAction, util/HttpUtil.kt)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

# HttpUtil.USER_AGENT is "ntfy/<version> (<flavor>; Android <release>; SDK <level>)".
USER_AGENT = "ntfy/1.24.0 (fdroid; Android 14; SDK 34)"
DEFAULT_METHOD = "POST"  # DEFAULT_HTTP_ACTION_METHOD, which "cannot be changed"
TIMEOUT = httpx.Timeout(15.0)  # HttpUtil.defaultClient: 15 s to connect, read and write


def send_http_action(
    action: Mapping[str, Any], client: httpx.Client | None = None
) -> httpx.Response:
    """The request the app makes for an `http` action as ntfy returned it: its `method`
    (POST when unset) to its `url`, with the app's User-Agent and then the action's `headers`
    (added, not replacing), and its `body`, else an empty one unless the method is GET or HEAD.
    The body has no Content-Type unless the action's headers give one, and no credentials go
    with it but those headers. OkHttp follows redirects, so this does too. The app counts a
    2xx as success (and with `clear` dismisses the notification), anything else as failure.
    """
    if client is None:
        with httpx.Client(timeout=TIMEOUT) as own_client:
            return send_http_action(action, own_client)
    if action.get("action") != "http":
        raise ValueError(f"the app makes no HTTP request for a {action.get('action')!r} action")
    method = action.get("method") or DEFAULT_METHOD
    body = action.get("body") or ("" if method not in ("GET", "HEAD") else None)
    headers = [("User-Agent", USER_AGENT), *(action.get("headers") or {}).items()]
    content = body.encode() if body is not None else None
    return client.request(
        method, action["url"], headers=headers, content=content, follow_redirects=True
    )
