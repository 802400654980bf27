"""Fixtures for the provider tests: a Google service account, a browser's subscription, an
application server's VAPID key, and a settable clock."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pushgate.crypto import VapidHeaderCache, VapidKey
from pushgate.providers import ServiceAccount
from tests.unit.providers.support import (
    CLIENT_EMAIL,
    PRIVATE_KEY_ID,
    PROJECT_ID,
    Clock,
)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def service_account_info(rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture(scope="session")
def account(service_account_info: dict[str, Any]) -> ServiceAccount:
    return ServiceAccount.parse(service_account_info)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def vapid_key() -> VapidKey:
    return VapidKey.generate()


@pytest.fixture
def vapid_headers(clock: Clock) -> VapidHeaderCache:
    return VapidHeaderCache(now=clock)
