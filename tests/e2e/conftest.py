"""Fixtures for end-to-end tests: real HTTP against the local stack."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from local.stack import LocalStack
from pushgate.settings import DEFAULT_WEBPUSH_HOSTS
from tests.standins import FcmStandin, NtfyStandin, WebPushStandin

FINAL = {"delivered", "failed", "invalid_token", "expired"}
STRICT_WEBPUSH_HOST = "webpush.pushgate.test"


class Api:
    """An HTTP client for one stack, with tokens minted by its development issuer."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.http = httpx.Client(base_url=stack.api_url, timeout=60)
        self.admin = stack.mint_token("ops", scope="push:admin")

    def token(
        self,
        sub: str,
        *,
        scope: str | None = None,
        aud: list[str] | None = None,
        issuer: str | None = None,
    ) -> str:
        """A token from the default development issuer, or `issuer="second"` (trusted for
        the user and service roles only)."""
        return self.stack.mint_token(sub, scope=scope, aud=aud, issuer=issuer)

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def new_app(self, **config) -> str:
        app_id = f"app-{uuid.uuid4().hex[:12]}"
        response = self.request(
            "PATCH", f"/push/config/{app_id}", self.admin, json={"enabled": True, **config}
        )
        assert response.status_code == 200, response.text
        return app_id

    def config(self, app_id: str) -> httpx.Response:
        return self.request("GET", f"/push/config/{app_id}", self.admin)

    def enrol_instance(self, instance: str, origin: str) -> None:
        """Enrol (or re-enable) a gateway instance whose well-known document is at `origin`."""
        enrolled = self.request(
            "PUT",
            f"/push/instances/{instance}",
            self.admin,
            json={"domain": origin, "enabled": True},
        )
        assert enrolled.status_code in (200, 201), enrolled.text


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[Api]:
    client = Api(local_stack)
    yield client
    client.http.close()


@pytest.fixture(scope="session")
def strict_stack(tmp_path_factory) -> Iterator[LocalStack]:
    """A second stack enforcing production URL rules (PUSHGATE_ALLOW_PRIVATE_URLS=0). Names
    in the JSON file at `stack.hosts_file` resolve to the addresses it lists (re-read on
    every lookup), so tests can point a name at a public or a private address. Web Push
    endpoints under `STRICT_WEBPUSH_HOST` are on its allow-list of push services."""
    hosts_file = tmp_path_factory.mktemp("strict") / "hosts.json"
    hosts_file.write_text("{}")
    with LocalStack(
        allow_private_urls=False,
        log_dir=tmp_path_factory.mktemp("strict-logs"),
        env={
            "PUSHGATE_HOSTS_FILE": str(hosts_file),
            "PUSHGATE_WEBPUSH_ALLOWED_HOSTS": ",".join(
                (*DEFAULT_WEBPUSH_HOSTS, STRICT_WEBPUSH_HOST)
            ),
        },
    ) as stack:
        stack.hosts_file = hosts_file
        yield stack


@pytest.fixture(scope="session")
def strict_api(strict_stack: LocalStack) -> Iterator[Api]:
    client = Api(strict_stack)
    yield client
    client.http.close()


class Delivery:
    """The delivery stack's API client and its provider stand-ins."""

    def __init__(self, api: Api, fcm: FcmStandin, webpush: WebPushStandin, ntfy: NtfyStandin):
        self.api, self.fcm, self.webpush, self.ntfy = api, fcm, webpush, ntfy

    def fcm_token(self) -> str:
        return "fcm-" + uuid.uuid4().hex + ":APA91b" + "t" * 100

    def register(self, app_id: str, user: str, platform: str, token) -> str:
        response = self.api.request(
            "POST",
            "/push/devices/register",
            self.api.token(user, aud=[app_id]),
            json={"app_id": app_id, "platform": platform, "push_token": token},
        )
        assert response.status_code in (200, 201), response.text
        return response.json()["device_id"]

    def send(self, app_id: str, path: str = "/push/send", **body):
        return self.api.request("POST", path, self.api.token(app_id, scope="push:send"), json=body)

    def status(self, app_id: str, notification_id: str) -> dict:
        # A gateway instance's notifications are an operator's to read; an app's, its own.
        instance = app_id.startswith("takos:")
        token = self.api.admin if instance else self.api.token(app_id, scope="push:send")
        return self.api.request("GET", f"/push/notifications/{notification_id}", token).json()

    def wait_queue_drained(self, timeout: float = 30) -> None:
        """Until the delivery queue holds nothing, visible or in flight: every job ran."""
        sqs = self.api.stack.client("sqs")
        url = self.api.stack.resources["DeliveryQueue"]
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        deadline = time.monotonic() + timeout
        while True:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
            if all(attributes["Attributes"][name] == "0" for name in names):
                return
            assert time.monotonic() < deadline, f"delivery queue not drained: {attributes}"
            time.sleep(0.2)

    def wait_final(self, app_id: str, notification_id: str, devices: int, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(app_id, notification_id)
            deliveries = status.get("deliveries", [])
            if len(deliveries) >= devices and all(d["status"] in FINAL for d in deliveries):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"not final in {timeout}s: {status}")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def delivery_stack(tmp_path_factory) -> Iterator[Delivery]:
    """A stack whose deliver function talks to provider stand-ins (FCM, Web Push, ntfy)."""
    with FcmStandin() as fcm, WebPushStandin() as webpush, NtfyStandin() as ntfy:
        account = fcm.new_service_account("demo-project")
        env = {
            "PUSHGATE_FCM_API_URL": fcm.url,
            "PUSHGATE_GOOGLE_TOKEN_URL": fcm.token_uri,
            "PUSHGATE_FCM_CREDENTIALS": json.dumps(account),
            "PUSHGATE_RETRY_BASE_SECONDS": "1",
            # Gateway clients: a failed signature may re-fetch the well-known after 1 s.
            "PUSHGATE_WELLKNOWN_REFETCH_SECONDS": "1",
        }
        with LocalStack(env=env, log_dir=tmp_path_factory.mktemp("delivery-logs")) as stack:
            api = Api(stack)
            yield Delivery(api, fcm, webpush, ntfy)
            api.http.close()
