"""Fixtures for end-to-end tests: real HTTP against the local stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from local.stack import LocalStack


class Api:
    """An HTTP client for one stack, with tokens minted by its development issuer."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.http = httpx.Client(base_url=stack.api_url, timeout=60)
        self.admin = stack.mint_token("ops", scope="push:admin")

    def token(self, sub: str, *, scope: str | None = None, aud: list[str] | None = None) -> str:
        return self.stack.mint_token(sub, scope=scope, aud=aud)

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


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[Api]:
    client = Api(local_stack)
    yield client
    client.http.close()


@pytest.fixture(scope="session")
def strict_stack(tmp_path_factory) -> Iterator[LocalStack]:
    """A second stack enforcing production URL rules (PUSHGATE_ALLOW_PRIVATE_URLS=0). Names
    in the JSON file at `stack.hosts_file` resolve to the addresses it lists (re-read on
    every lookup), so tests can point a name at a public or a private address."""
    hosts_file = tmp_path_factory.mktemp("strict") / "hosts.json"
    hosts_file.write_text("{}")
    with LocalStack(
        allow_private_urls=False,
        log_dir=tmp_path_factory.mktemp("strict-logs"),
        env={"PUSHGATE_HOSTS_FILE": str(hosts_file)},
    ) as stack:
        stack.hosts_file = hosts_file
        yield stack


@pytest.fixture(scope="session")
def strict_api(strict_stack: LocalStack) -> Iterator[Api]:
    client = Api(strict_stack)
    yield client
    client.http.close()
