"""Broadcasts end to end on the delivery stack: one request reaches every device of the app on
the ntfy and Web Push stand-ins through the fan-out worker and the deliver function, and the
broadcast reads finished with their outcomes; the routes' refusals, with their exact codes.
(409 `broadcast_running` and cancelling a running one need a broadcast held between pages:
tests/integration/test_broadcasts.py.)"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_approvals import wait_for
from tests.e2e.test_delivery import delivery  # noqa: F401 - the shared session fixture

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("delivery")]


def _broadcast(api, app_id: str, **body):
    document = {"title": "We are back", "body": "The service is up again"} | body
    token = api.token(app_id, scope="push:send")
    return api.request("POST", "/push/send/broadcast", token, json=document)


def _status(api, app_id: str, broadcast_id: str):
    token = api.token(app_id, scope="push:send")
    return api.request("GET", f"/push/broadcasts/{broadcast_id}", token)


def test_broadcast_reaches_ntfy_and_web_push_devices_and_reads_finished(delivery):  # noqa: F811
    api = delivery.api
    app_id = api.new_app(vapid_subject="mailto:ops@pushgate.dev")
    topics = []
    for user in ("ada", "bob"):
        topics.append("brd" + uuid.uuid4().hex[:10])
        delivery.register(app_id, user, "ntfy", {"url": f"{delivery.ntfy.url}/{topics[-1]}"})
    subscription = delivery.webpush.new_subscription()
    delivery.register(app_id, "cy", "web", subscription)

    started = _broadcast(api, app_id)
    assert started.status_code == 202, started.text
    broadcast_id = started.json()["broadcast_id"]
    assert broadcast_id.startswith("brd_")
    for topic in topics:
        (message,) = wait_for(lambda t=topic: delivery.ntfy.messages(t), "the ntfy push")
        assert message.title == "We are back"
    (push,) = wait_for(lambda: delivery.webpush.messages(subscription), "the web push")
    assert push.json()["title"] == "We are back"
    shown = wait_for(
        lambda: (body := _status(api, app_id, broadcast_id).json())["finished"] and body,
        "the broadcast finished",
        timeout=60,
    )

    assert shown["status"] == "finished"
    assert (shown["total"], shown["reached"]) == (3, 3)
    assert shown["by_outcome"] == {"delivered": 3, "failed": 0, "invalid_token": 0, "expired": 0}
    assert shown["app_id"] == app_id
    assert shown["reason"] is None
    assert shown["finished_at"] is not None


def test_broadcast_routes_answer_their_exact_status_codes(delivery):  # noqa: F811
    api = delivery.api
    app_id = api.new_app()
    other = api.new_app()
    # No device: the broadcast finishes at its first page, so a second may start.
    first = _broadcast(api, app_id, platforms=["ntfy"])
    broadcast_id = first.json()["broadcast_id"]
    user = api.token("ada", aud=[app_id])

    as_other = _status(api, other, broadcast_id)
    as_user = api.request("GET", f"/push/broadcasts/{broadcast_id}", user)
    user_starts = api.request(
        "POST", "/push/send/broadcast", user, json={"title": "t", "body": "b"}
    )
    bad_platform = _broadcast(api, app_id, platforms=["pager"])
    wait_for(lambda: _status(api, app_id, broadcast_id).json()["finished"], "finished")
    cancel_ended = api.request(
        "DELETE", f"/push/broadcasts/{broadcast_id}", api.token(app_id, scope="push:send")
    )

    assert first.status_code == 202
    assert as_other.status_code == 404
    assert as_user.status_code == 403
    assert user_starts.status_code == 403
    assert bad_platform.status_code == 400
    assert cancel_ended.status_code == 409
    assert cancel_ended.json()["error"]["code"] == "broadcast_finished"
