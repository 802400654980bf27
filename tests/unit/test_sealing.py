"""Field encryption at rest: AES-256-GCM under a KMS-wrapped data key, bound to its row."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from pushgate.sealing import FieldCipher, FieldDecryptionError


class CountingKms:
    """The emulator's KMS, counting calls so tests can see the data-key cache work."""

    def __init__(self) -> None:
        self.client = boto3.client("kms", region_name="us-east-1")
        self.key_id = self.client.create_key()["KeyMetadata"]["KeyId"]
        self.calls: list[str] = []

    def encrypt(self, **kwargs):
        self.calls.append("encrypt")
        return self.client.encrypt(**kwargs)

    def decrypt(self, **kwargs):
        self.calls.append("decrypt")
        return self.client.decrypt(**kwargs)


@pytest.fixture
def kms(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield CountingKms()


def test_cipher_round_trips_a_value(kms):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    sealed = cipher.seal(b"fcm-token-123", binding="devices/d1/token")
    assert cipher.open(sealed, binding="devices/d1/token") == b"fcm-token-123"


def test_cipher_output_hides_the_plaintext(kms):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    sealed = cipher.seal(b"whsec_plaintext-secret", binding="apps/a/webhook_secret")
    assert "plaintext" not in sealed
    assert sealed.startswith("pg1.")


def test_cipher_refuses_a_value_moved_to_another_row(kms):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    sealed = cipher.seal(b"token", binding="devices/d1/token")
    with pytest.raises(FieldDecryptionError):
        cipher.open(sealed, binding="devices/d2/token")


@pytest.mark.parametrize("garbage", ["", "pg1.", "pg1.AAAA", "pg2.abc", "not sealed at all"])
def test_cipher_refuses_malformed_values(kms, garbage):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    with pytest.raises(FieldDecryptionError):
        cipher.open(garbage, binding="devices/d1/token")


def test_cipher_refuses_a_tampered_value(kms):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    sealed = cipher.seal(b"token", binding="devices/d1/token")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(FieldDecryptionError):
        cipher.open(flipped, binding="devices/d1/token")


def test_cipher_wraps_one_data_key_for_many_values(kms):
    cipher = FieldCipher(kms.key_id, kms=lambda: kms)
    sealed = [cipher.seal(f"token-{i}".encode(), binding=f"devices/{i}/token") for i in range(50)]
    assert [cipher.open(s, binding=f"devices/{i}/token") for i, s in enumerate(sealed)][7] == (
        b"token-7"
    )
    assert kms.calls == ["encrypt"]


def test_cipher_in_a_new_container_unwraps_each_data_key_once(kms):
    sealed = [
        FieldCipher(kms.key_id, kms=lambda: kms).seal(b"t", binding=f"devices/{i}/token")
        for i in range(3)
    ]
    kms.calls.clear()
    reader = FieldCipher(kms.key_id, kms=lambda: kms)
    for _ in range(10):
        for i, value in enumerate(sealed):
            reader.open(value, binding=f"devices/{i}/token")
    assert kms.calls == ["decrypt"] * 3
