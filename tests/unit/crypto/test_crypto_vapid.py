"""VAPID (RFC 8292): keys, the JWT, the header cache, and interop with py_vapid and PyJWT.
The push service's check is the stand-in's (tests/unit/standins/test_standins_webpush_crypto.py)."""

from __future__ import annotations

import base64
import json
import re
import time

import jwt as pyjwt
import py_vapid
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as py_vapid_jwt

from pushgate.crypto import (
    InvalidKeyError,
    InvalidVapidClaimError,
    VapidHeaderCache,
    VapidKey,
    sign_vapid_jwt,
    vapid_audience,
    vapid_authorization,
)
from pushgate.crypto import vapid as vapid_module

AUDIENCE = "https://fcm.googleapis.com"
SUBJECT = "mailto:push@example.com"
NOW = 1_750_000_000.0
HOUR = 3600


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, claims, _ = token.split(".")
    return json.loads(b64u_decode(header)), json.loads(b64u_decode(claims))


def header_params(header: str) -> dict[str, str]:
    match = re.fullmatch(r"vapid t=([\w.-]+), k=([\w-]+)", header)
    assert match, header
    return {"t": match[1], "k": match[2]}


class FakeClock:
    def __init__(self, start: float) -> None:
        self.time = start

    def __call__(self) -> float:
        return self.time


@pytest.fixture(scope="module")
def key() -> VapidKey:
    return VapidKey.generate()


@pytest.fixture
def token(key: VapidKey) -> str:
    return sign_vapid_jwt(key, audience=AUDIENCE, subject=SUBJECT, issued_at=NOW)


def pem_private(private_key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def test_vapid_key_exports_public_key_as_unpadded_base64url_point(key: VapidKey) -> None:
    point = b64u_decode(key.public_key)

    assert "=" not in key.public_key
    assert re.fullmatch(r"[A-Za-z0-9_-]{87}", key.public_key)
    assert len(point) == 65
    assert point[0] == 0x04


def test_vapid_key_private_export_round_trips(key: VapidKey) -> None:
    exported = key.export_private_key()

    assert len(b64u_decode(exported)) == 32
    assert VapidKey.load(exported).public_key == key.public_key


@pytest.mark.parametrize(
    "encode",
    [
        lambda k: pem_private(k, serialization.PrivateFormat.PKCS8),
        lambda k: pem_private(k, serialization.PrivateFormat.TraditionalOpenSSL).decode(),
        lambda k: base64.b64encode(
            k.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ).decode(),
        lambda k: k.private_numbers().private_value.to_bytes(32, "big"),
        lambda k: base64.b64encode(k.private_numbers().private_value.to_bytes(32, "big")).decode(),
    ],
    ids=["pkcs8-pem-bytes", "sec1-pem-str", "pkcs8-der-base64", "raw-scalar", "scalar-base64"],
)
def test_vapid_key_load_reads_every_storage_form(key: VapidKey, encode) -> None:
    assert VapidKey.load(encode(key.private_key)).public_key == key.public_key


def test_vapid_key_load_reads_what_py_vapid_writes() -> None:
    theirs = py_vapid.Vapid()
    theirs.generate_keys()
    point = theirs.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    ours = VapidKey.load(theirs.private_pem())

    assert b64u_decode(ours.public_key) == point


def _truncated_pem() -> bytes:
    """A PEM private-key document whose body is cut to four characters (no key in the source)."""
    whole = pem_private(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8)
    first, *_, last = whole.splitlines()
    return b"\n".join([first, b"AAAA", last])


@pytest.mark.parametrize(
    "data",
    [
        "",
        "not base64!",
        bytes(32),
        (2**256 - 1).to_bytes(32, "big"),
        pem_private(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.PKCS8),
        _truncated_pem(),
        None,
    ],
    ids=["empty", "garbage", "zero-scalar", "scalar-above-n", "p384", "bad-pem", "none"],
)
def test_vapid_key_load_refuses_unusable_keys(data: object) -> None:
    with pytest.raises(InvalidKeyError):
        VapidKey.load(data)  # type: ignore[arg-type]


def test_vapid_key_repr_hides_the_private_key(key: VapidKey) -> None:
    assert key.export_private_key() not in repr(key)
    assert key.public_key in repr(key)


@pytest.mark.parametrize(
    ("endpoint", "audience"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc:APA91b", "https://fcm.googleapis.com"),
        ("https://FCM.GoogleAPIs.com:443/fcm/send/x", "https://fcm.googleapis.com"),
        (
            "HTTPS://updates.push.services.mozilla.com/wpush/v2/x",
            "https://updates.push.services.mozilla.com",
        ),
        ("https://web.push.apple.com:8443/x?y=1#z", "https://web.push.apple.com:8443"),
        ("http://127.0.0.1:8080/push/1", "http://127.0.0.1:8080"),
        ("http://localhost:80/push", "http://localhost"),
        ("https://[::1]:9443/push", "https://[::1]:9443"),
        ("https://user:pw@push.example.com/x", "https://push.example.com"),
    ],
)
def test_vapid_audience_is_the_endpoint_origin(endpoint: str, audience: str) -> None:
    assert vapid_audience(endpoint) == audience


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "fcm.googleapis.com/x",
        "ftp://push.example.com/x",
        "https:///x",
        "https://h:99999/",
        "https://[::1/x",
    ],
)
def test_vapid_audience_refuses_what_is_not_an_http_url(endpoint: str) -> None:
    with pytest.raises(InvalidVapidClaimError):
        vapid_audience(endpoint)


def test_sign_vapid_jwt_writes_the_rfc8292_header_and_claims(key: VapidKey, token: str) -> None:
    header, claims = jwt_parts(token)

    assert b64u_decode(token.split(".", maxsplit=1)[0]) == b'{"typ":"JWT","alg":"ES256"}'
    assert header == {"typ": "JWT", "alg": "ES256"}
    assert claims == {"aud": AUDIENCE, "exp": int(NOW) + 12 * HOUR, "sub": SUBJECT}


def test_sign_vapid_jwt_signs_with_raw_r_and_s(token: str) -> None:
    assert len(b64u_decode(token.split(".")[2])) == 64


def test_sign_vapid_jwt_refuses_a_lifetime_beyond_24_hours(key: VapidKey) -> None:
    with pytest.raises(InvalidVapidClaimError, match="24 hours"):
        sign_vapid_jwt(
            key, audience=AUDIENCE, subject=SUBJECT, issued_at=NOW, lifetime=24 * HOUR + 1
        )


@pytest.mark.parametrize(
    "audience", ["https://push.example.com/path", "push.example.com", "https://", ""]
)
def test_sign_vapid_jwt_refuses_an_audience_that_is_not_an_origin(
    key: VapidKey, audience: str
) -> None:
    with pytest.raises(InvalidVapidClaimError, match="origin"):
        sign_vapid_jwt(key, audience=audience, subject=SUBJECT, issued_at=NOW)


@pytest.mark.parametrize("subject", ["", "push@example.com", "http://example.com", "mailto:"])
def test_sign_vapid_jwt_refuses_a_subject_that_is_not_mailto_or_https(
    key: VapidKey, subject: str
) -> None:
    with pytest.raises(InvalidVapidClaimError, match="sub"):
        sign_vapid_jwt(key, audience=AUDIENCE, subject=subject, issued_at=NOW)


def test_vapid_authorization_has_the_rfc8292_shape(key: VapidKey, token: str) -> None:
    assert header_params(vapid_authorization(key, token)) == {"t": token, "k": key.public_key}


def test_vapid_header_cache_reuses_the_header_until_an_hour_before_expiry(key: VapidKey) -> None:
    clock = FakeClock(NOW)
    cache = VapidHeaderCache(now=clock)
    first = cache.authorization(key, AUDIENCE, SUBJECT)

    clock.time = NOW + 11 * HOUR - 1

    assert cache.authorization(key, AUDIENCE, SUBJECT) is first


def test_vapid_header_cache_signs_again_within_an_hour_of_expiry(key: VapidKey) -> None:
    clock = FakeClock(NOW)
    cache = VapidHeaderCache(now=clock)
    first = cache.authorization(key, AUDIENCE, SUBJECT)

    clock.time = NOW + 11 * HOUR
    second = cache.authorization(key, AUDIENCE, SUBJECT)

    assert second != first
    assert jwt_parts(header_params(second)["t"])[1]["exp"] == int(NOW) + 23 * HOUR


def test_vapid_header_cache_signs_once_per_key_audience_and_subject(
    key: VapidKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed: list[str] = []
    real_sign = vapid_module.sign_vapid_jwt

    def counting_sign(*args: object, **kwargs: object) -> str:
        signed.append(str(kwargs["audience"]))
        return real_sign(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vapid_module, "sign_vapid_jwt", counting_sign)
    cache, other_key = VapidHeaderCache(now=FakeClock(NOW)), VapidKey.generate()
    for _ in range(3):
        cache.authorization(key, AUDIENCE, SUBJECT)
        cache.authorization(key, "https://web.push.apple.com", SUBJECT)
        cache.authorization(other_key, AUDIENCE, SUBJECT)
        cache.authorization(key, AUDIENCE, "mailto:other@example.com")

    assert len(signed) == 4


def test_vapid_header_cache_forgets_the_oldest_entry_beyond_its_bound(key: VapidKey) -> None:
    cache = VapidHeaderCache(now=FakeClock(NOW), max_entries=2)
    oldest = cache.authorization(key, "https://a.example", SUBJECT)
    cache.authorization(key, "https://b.example", SUBJECT)
    cache.authorization(key, "https://c.example", SUBJECT)

    assert cache.authorization(key, "https://a.example", SUBJECT) is not oldest


def test_vapid_header_cache_refuses_a_lifetime_beyond_24_hours() -> None:
    with pytest.raises(ValueError, match="24 h"):
        VapidHeaderCache(lifetime=25 * HOUR)


def test_py_vapid_verifies_our_jwt(key: VapidKey, token: str) -> None:
    claims = py_vapid_jwt.decode(token, key.public_key)

    assert claims == {"aud": AUDIENCE, "exp": int(NOW) + 12 * HOUR, "sub": SUBJECT}


def test_pyjwt_verifies_our_jwt_against_the_exported_public_key(key: VapidKey) -> None:
    token = sign_vapid_jwt(key, audience=AUDIENCE, subject=SUBJECT, issued_at=time.time())
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64u_decode(key.public_key)
    )

    claims = pyjwt.decode(token, public_key, algorithms=["ES256"], audience=AUDIENCE)

    assert claims["sub"] == SUBJECT
