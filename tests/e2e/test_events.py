"""The sample events in events/ are real: each one, invoked like `sam local invoke` with its
placeholder token replaced, gets the answer its route gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.cfn import load_template
from local.template import read_http_routes

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events"
# In order: the app is configured first, then used. Unknown ids answer 404.
EXPECTED = {
    "config-patch": {200},
    "config-get": {200},
    "config-rotate-webhook-secret": {200},
    "apps-list": {200},
    "stats-get": {200},
    "vapid-public-key-get": {200},
    "devices-register": {200, 201},
    "account-devices": {200},
    "devices-list": {200},
    "send": {202},
    "send-bulk": {202},
    "send-batch": {202},
    "notification-get": {404},
    # A broadcast to demo's devices; the samples' broadcast id is unknown here.
    "broadcast-send": {202},
    "broadcast-get": {404},
    "broadcast-cancel": {404},
    # The sample's notification id is unknown here; its preflight answers any URL alike.
    "notification-interactions": {404},
    "notification-interactions-preflight": {204},
    "devices-register-preflight": {204},
    "devices-delete-preflight": {204},
    # An approval for alice (registered above); the samples' approval id is unknown here.
    "approvals-create": {201},
    "approvals-get": {404},
    "approvals-decide": {404},
    "devices-delete": {404},
    # Managed ntfy channels: this stack has no ntfy server (tests/e2e/test_managed_ntfy.py).
    "ntfy-enable": {404},
    "ntfy-get": {404},
    "ntfy-test": {404},
    "ntfy-disable": {404},
    # Gateway clients: a sample cannot carry a signature that is still valid (it expired).
    "instances-put": {200, 201},
    "instances-get": {200},
    "instances-list": {200},
    "takos-register": {401},
    "takos-webhook": {401},
    "takos-events": {401},
    "instances-delete": {204},
    # The console's pages: no token.
    "console-home": {200},
    "console-redirect": {308},
    "console-file": {200},
    "console-docs": {200},
    "console-openapi": {200},
}


def _function_for(route_key: str) -> str:
    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    routes = read_http_routes(template["Resources"])
    return next(r.function_id for r in routes if r.route_key == route_key)


def _token(api, placeholder: str) -> str:
    spec = json.loads(placeholder[placeholder.index("{") : placeholder.rindex("}") + 1])
    return api.token(spec["sub"], scope=spec.get("scope"), aud=spec.get("aud"))


def test_events_cover_every_http_route():
    template = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
    routes = {r.route_key for r in read_http_routes(template["Resources"])}
    events = [json.loads(p.read_text()) for p in EVENTS.glob("*.json")]
    covered = {event["routeKey"] for event in events if "routeKey" in event}
    assert routes <= covered, f"no sample event for {sorted(routes - covered)}"


def test_events_invoke_their_functions(api):
    assert set(EXPECTED) == {p.stem for p in EVENTS.glob("*.json") if "routeKey" in p.read_text()}
    for name, statuses in EXPECTED.items():
        event = json.loads((EVENTS / f"{name}.json").read_text())
        headers = event["headers"]
        if "authorization" in headers:
            headers["authorization"] = "Bearer " + _token(api, headers["authorization"])
        if name == "config-patch":  # the sample names a public host; the local stack is offline
            body = json.loads(event["body"]) | {"webhook_url": "http://127.0.0.1:9/hook"}
            event["body"] = json.dumps(body)
        result = api.stack.invoke(_function_for(event["routeKey"]), event)
        assert result["statusCode"] in statuses, (name, result)


def test_events_sqs_samples_are_jobs_and_receipts_the_functions_accept():
    from pushgate.approvals.models import ApprovalTimeout
    from pushgate.broadcasts.models import BroadcastPage
    from pushgate.managed_ntfy.removals import RemovalRequest
    from pushgate.notifications.models import DeliveryJob
    from pushgate.receipts.models import ReceiptMessage

    job = json.loads((EVENTS / "deliver-job.json").read_text())["Records"][0]
    receipt = json.loads((EVENTS / "receipt.json").read_text())["Records"][0]
    removal = json.loads((EVENTS / "ntfy-cleanup.json").read_text())["Records"][0]
    timeout = json.loads((EVENTS / "approval-timeout.json").read_text())["Records"][0]
    page = json.loads((EVENTS / "broadcast-page.json").read_text())["Records"][0]
    assert DeliveryJob.model_validate_json(job["body"]).user_id == "alice"
    assert ReceiptMessage.model_validate_json(receipt["body"]).receipt.status == "delivered"
    assert RemovalRequest.model_validate_json(removal["body"]).app_id == "demo"
    assert ApprovalTimeout.model_validate_json(timeout["body"]).approval_id.startswith("apr_")
    assert BroadcastPage.model_validate_json(page["body"]).broadcast_id.startswith("brd_")
    sources = {r["eventSource"] for r in (job, receipt, removal, timeout, page)}
    assert sources == {"aws:sqs"}
