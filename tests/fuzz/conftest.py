"""Fuzzing runs against the suite's local stack, through the e2e tests' API client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.stack import LocalStack
from tests.e2e.conftest import Api


@pytest.fixture(scope="session")
def api(local_stack: LocalStack) -> Iterator[Api]:
    client = Api(local_stack)
    yield client
    client.http.close()
