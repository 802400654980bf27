"""In-process tests against the local stack's AWS emulator, with pushgate's caches reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pushgate import aws, sealing, settings
from pushgate.auth import tokens


def _clear_caches() -> None:
    for cached in (settings.get_settings, sealing.get_cipher, tokens.get_verifier, aws.client):
        cached.cache_clear()


@pytest.fixture
def pushgate_env(aws_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment a function gets, with settings, clients and key caches rebuilt."""
    _clear_caches()
    yield aws_env
    _clear_caches()
