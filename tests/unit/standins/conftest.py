"""Fixtures for the stand-in tests: each stand-in running on 127.0.0.1, and an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
import pytest

from tests.standins import FcmStandin, NtfyStandin, StandinServer, WebPushStandin

TIMEOUT = httpx.Timeout(5.0)


StandinT = TypeVar("StandinT", bound=StandinServer[Any])


def _running(standin: StandinT) -> Iterator[StandinT]:
    with standin:
        yield standin
    assert standin.errors() == ()  # the stand-in itself never failed


@pytest.fixture
def fcm() -> Iterator[FcmStandin]:
    yield from _running(FcmStandin())


@pytest.fixture
def webpush() -> Iterator[WebPushStandin]:
    yield from _running(WebPushStandin())


@pytest.fixture
def ntfy() -> Iterator[NtfyStandin]:
    yield from _running(NtfyStandin())


@pytest.fixture
def private_ntfy() -> Iterator[NtfyStandin]:
    """ntfy as managed private ntfy runs it: auth-default-access deny-all."""
    yield from _running(NtfyStandin(default_access="deny-all"))


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT) as client:
        yield client
