"""ServiceAccount: the Google key file, read strictly and never echoed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pushgate.providers import InvalidServiceAccountError, ServiceAccount
from tests.unit.providers.support import CLIENT_EMAIL, PRIVATE_KEY_ID, PROJECT_ID


def test_service_account_parses_a_dict(service_account_info: dict[str, Any]) -> None:
    account = ServiceAccount.parse(service_account_info)

    assert (account.project_id, account.client_email, account.private_key_id) == (
        PROJECT_ID,
        CLIENT_EMAIL,
        PRIVATE_KEY_ID,
    )


def test_service_account_parses_json_text(service_account_info: dict[str, Any]) -> None:
    account = ServiceAccount.parse(json.dumps(service_account_info))

    assert account.token_uri == "https://oauth2.googleapis.com/token"


def test_service_account_repr_hides_the_private_key(
    service_account_info: dict[str, Any],
) -> None:
    account = ServiceAccount.parse(service_account_info)

    assert "PRIVATE" not in repr(account)
    assert "RSAPrivateKey" not in repr(account)


@pytest.mark.parametrize("field", ["project_id", "client_email", "private_key", "private_key_id"])
def test_service_account_refuses_a_missing_field(
    service_account_info: dict[str, Any], field: str
) -> None:
    info = {name: value for name, value in service_account_info.items() if name != field}

    with pytest.raises(InvalidServiceAccountError, match=field):
        ServiceAccount.parse(info)


def test_service_account_refuses_a_broken_key_without_echoing_it(
    service_account_info: dict[str, Any],
) -> None:
    broken = service_account_info["private_key"].replace("A", "B", 40)

    with pytest.raises(InvalidServiceAccountError) as raised:
        ServiceAccount.parse({**service_account_info, "private_key": broken})

    assert "BEGIN" not in str(raised.value)
    assert broken[40:80] not in str(raised.value)


def test_service_account_refuses_a_non_rsa_key(service_account_info: dict[str, Any]) -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(InvalidServiceAccountError, match="RSA"):
        ServiceAccount.parse({**service_account_info, "private_key": pem})


def test_service_account_refuses_another_credential_type(
    service_account_info: dict[str, Any],
) -> None:
    with pytest.raises(InvalidServiceAccountError, match="type"):
        ServiceAccount.parse({**service_account_info, "type": "authorized_user"})


def test_service_account_refuses_a_project_id_that_would_change_the_path(
    service_account_info: dict[str, Any],
) -> None:
    with pytest.raises(InvalidServiceAccountError, match="project_id"):
        ServiceAccount.parse({**service_account_info, "project_id": "demo/../other"})


@pytest.mark.parametrize("source", ["{not json", "[1, 2]", b"null"])
def test_service_account_refuses_what_is_not_a_json_object(source: str | bytes) -> None:
    with pytest.raises(InvalidServiceAccountError):
        ServiceAccount.parse(source)


def test_service_account_error_is_a_value_error(service_account_info: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="client_email"):
        ServiceAccount.parse({**service_account_info, "client_email": "no-at-sign"})
