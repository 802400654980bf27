"""Schemathesis against the committed openapi.json on a running local stack: every route,
valid and invalid data, admin / service / user / forged / no tokens. No answer may be a 5xx or
break the document (undocumented status, wrong content type, body off its schema)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup

from clients.gateway_client import GatewayClient
from tests.e2e.conftest import Api
from tests.standins.wellknown import WellKnownServer

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.json"
# Examples per route and mode: 18 routes x (positive + negative, where something can be
# made invalid) x this ≈ 1,100 requests.
EXAMPLES = 32
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# The token of each request, in turn: the valid kinds more often than the broken ones.
TOKENS = [
    "admin",
    "service",
    "user",
    "expired",
    "admin",
    "service",
    "user",
    "garbage",
    "service_send_only",
    "other_service",
    "user",
    "none",
]
NEGATIVE_CHECKS = [*CHECKS, checks.negative_data_rejection]


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    # Each request carries a token of our choosing (valid or not), never a generated one; and
    # unknown query parameters are ignored by design, so they are not generated as "invalid".
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    return [result.ok() for result in schema.get_all_operations()]


class Fixtures:
    """Real things for generated requests to find — an app with a device and a notification,
    an enrolled gateway instance — tokens of every kind, and a well-formed request per route
    (generated data alone seldom gets past validation to the success paths)."""

    def __init__(self, api: Api, client: GatewayClient, origin: str) -> None:
        self.api, self.client, self.origin = api, client, origin
        self.app_id = api.new_app(daily_quota=100_000_000, max_daily_quota=100_000_000)
        self.user = f"fuzz-{uuid.uuid4().hex[:6]}"
        self.restore()
        registered = api.request(
            "POST",
            "/push/devices/register",
            api.token(self.user, aud=[self.app_id]),
            json=self._registration(),
        )
        assert registered.status_code == 201, registered.text
        self.device_id = registered.json()["device_id"]
        service = api.token(self.app_id, scope="push:send push:config")
        message = {"user_id": "fuzz-nobody", **self._message()}
        sent = api.request("POST", "/push/send", service, json=message)
        assert sent.status_code == 202, sent.text
        self.notification_id = sent.json()["notification_id"]
        now = int(time.time())
        self.tokens: dict[str, str | None] = {
            "admin": api.admin,
            "service": service,
            "service_send_only": api.token(self.app_id, scope="push:send"),
            "other_service": api.token("fuzz-other-app", scope="push:send push:config"),
            "user": api.token(self.user, aud=[self.app_id]),
            "expired": api.stack.mint_token(
                "ops", scope="push:admin", extra_claims={"exp": now - 3600, "nbf": now - 7200}
            ),
            "garbage": "not.a.jwt",
            "none": None,
        }

    def restore(self) -> None:
        """Undo what a route's examples may have changed: the app enabled with room to send,
        the instance enrolled."""
        api = self.api
        patched = api.request(
            "PATCH",
            f"/push/config/{self.app_id}",
            api.admin,
            json={
                "enabled": True,
                "suspended": None,
                "daily_quota": 100_000_000,
                "max_daily_quota": 100_000_000,
                "webhook_url": None,
                "user_issuer": None,
                "service_issuers": None,
            },
        )
        assert patched.status_code == 200, patched.text
        api.enrol_instance(self.client.instance, self.origin)

    def _registration(self) -> dict[str, Any]:
        token = f"fuzz-{uuid.uuid4().hex}:APA91b" + "z" * 120
        return {"app_id": self.app_id, "platform": "android", "push_token": token}

    def _message(self) -> dict[str, Any]:
        return {"title": "t", "body": "b", "ttl": 60, "url": "https://example.com/x"}

    def path_parameters(self, operation: Any) -> dict[str, str]:
        known = {
            "app_id": self.app_id,
            "device_id": self.device_id,
            "notification_id": self.notification_id,
            "instance": self.client.instance,
        }
        names = [parameter.name for parameter in operation.path_parameters]
        return {name: known[name] for name in names if name in known}

    def well_formed(self, operation: Any) -> dict[str, Any] | None:
        """as_strategy arguments for a request that passes validation, if the route has a
        body (gateway routes get a fresh, correctly signed one: its nonce works once)."""
        label = operation.label
        if label in ("POST /push/register",):
            signed = self.client.register(self.user, self._registration()["push_token"], "android")
        elif label in ("POST /push/webhook", "POST /internal/push/events"):
            signed = self.client.event(self.user, "t", "b")
        else:
            signed = None
        if signed is not None:
            return {"body": signed.payload, "headers": {"x-push-signature": signed.signature}}
        bodies = {
            "POST /push/send": {"user_id": self.user, **self._message()},
            "POST /push/send/bulk": {"user_ids": [self.user, "fuzz-nobody"], **self._message()},
            "POST /push/send/batch": {
                "notifications": [{"user_id": self.user, **self._message()}] * 2
            },
            "POST /push/send/broadcast": self._message(),
            "POST /push/devices/register": self._registration(),
            "PATCH /push/config/{app_id}": {"enabled": True, "daily_quota": 100_000_000},
            "PUT /push/instances/{instance}": {"domain": self.origin, "enabled": True},
        }
        return {"body": bodies[label]} if label in bodies else None


@pytest.fixture(scope="module")
def fixtures(api: Api) -> Any:
    with WellKnownServer() as server:
        client = GatewayClient.generate(f"fuzz-{uuid.uuid4().hex[:8]}.example")
        server.publish(client.wellknown())
        yield Fixtures(api, client, server.origin)


def _fuzz(
    operation: Any, mode: GenerationMode, fixtures: Fixtures, base_url: str
) -> tuple[Counter[int], str | None]:
    """Runs the examples of one route and mode; returns the statuses it got and the first
    failure, if any (the run of that route and mode stops there)."""
    statuses: Counter[int] = Counter()
    strategies = [operation.as_strategy(generation_mode=mode)]
    if mode is GenerationMode.POSITIVE:
        # A share of the examples address real things, so they get past the 403s and 404s,
        # and some carry a well-formed body, so they get past validation.
        known = fixtures.path_parameters(operation)
        query = {"app_id": fixtures.app_id} if operation.query.get("app_id") else None
        real = {"path_parameters": known or None, "query": query}
        if known or query:
            strategies.append(operation.as_strategy(generation_mode=mode, **real))
        well_formed = fixtures.well_formed(operation)
        if well_formed is not None:
            strategies.append(operation.as_strategy(generation_mode=mode, **real, **well_formed))
    session = requests.Session()
    checks_to_run = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # Hypothesis leans on the first strategy of a one_of: the most specific goes first.
    @given(case=st.one_of(strategies[::-1]))
    def run(case: Any) -> None:
        # Round robin, not drawn: hypothesis favours the first of a sampled_from.
        token = TOKENS[sum(statuses.values()) % len(TOKENS)]
        bearer = fixtures.tokens[token]
        headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks_to_run, headers=headers)
        except FailureGroup as failures:
            raise AssertionError(
                f"{operation.label} ({mode.value}, {token} token) -> {response.status_code} "
                f"{response.text[:300]}\n{failures}"
            ) from None

    try:
        run()
    except Unsatisfiable:
        pass  # nothing in this route can be made invalid (no parameters, no body)
    except Exception as failure:  # hypothesis may wrap it (FlakyFailure: the state moved)
        return statuses, _describe(failure)
    finally:
        session.close()
    return statuses, None


def _describe(failure: BaseException) -> str:
    if isinstance(failure, BaseExceptionGroup):
        return "\n".join(_describe(inner) for inner in failure.exceptions)
    return str(failure)


def test_fuzz_every_route_answers_within_its_document(api: Api, fixtures: Fixtures):
    started = time.monotonic()
    totals: Counter[int] = Counter()
    per_route: dict[str, int] = {}
    failures: list[str] = []
    for operation in _operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            statuses, failure = _fuzz(operation, mode, fixtures, api.stack.api_url)
            fixtures.restore()
            if failure is not None:
                failures.append(failure)
            totals.update(statuses)
            per_route[operation.label] = per_route.get(operation.label, 0) + sum(statuses.values())
    requests_made = sum(totals.values())
    print(
        f"\nfuzz: {requests_made} requests over {len(per_route)} routes in "
        f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(totals.items()))}"
    )
    assert not failures, "\n\n".join(failures)
    assert len(per_route) == len(_operations())
    assert not [status for status in totals if status >= 500]
    assert requests_made >= 1000
