"""The well-known document: parsed strictly (P-256 SPKI PEM only) and fetched like a webhook
(SSRF checks, checked addresses, no redirects, size cap, one deadline)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from clients.gateway_client import GatewayClient, public_pem
from pushgate.settings import Settings
from pushgate.takos import wellknown
from pushgate.takos.wellknown import (
    MAX_DOCUMENT_BYTES,
    InvalidWellKnownError,
    WellKnownDocument,
    WellKnownUnavailableError,
    fetch_document,
    parse_document,
    wellknown_url,
)
from pushgate.urls import UnsafeUrlError
from tests.standins.tarpit import TarpitServer

PRODUCTION = Settings.from_environ({})
LOCAL = Settings.from_environ({"PUSHGATE_ALLOW_PRIVATE_URLS": "1"})
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(scope="module")
def client() -> GatewayClient:
    return GatewayClient.generate("social.example", tenant="social")


def _parse(document: dict) -> WellKnownDocument:
    return parse_document(json.dumps(document).encode(), fetched_at=1.0)


def _refused(document: dict | bytes) -> InvalidWellKnownError:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(InvalidWellKnownError) as refused:
        parse_document(body, fetched_at=1.0)
    assert (refused.value.status, refused.value.code) == (401, "invalid_wellknown")
    return refused.value


# ---------------------------------------------------------------- parsing


def test_parse_document_reads_every_field(client):
    document = _parse(client.wellknown())
    assert document.instance == "social.example"
    assert document.tenant == "social"
    assert document.registration_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert document.webhook_key == public_pem(client.webhook_key)
    assert document.key_for("registration") == document.registration_key
    assert document.key_for("event") == document.webhook_key


def test_parse_document_without_webhook_signs_events_with_the_registration_key(client):
    published = client.wellknown()
    del published["webhook"], published["tenant"]
    document = _parse(published)
    assert document.tenant is None
    assert document.key_for("event") == document.registration_key


def test_parse_document_ignores_unknown_fields(client):
    assert _parse(client.wellknown() | {"version": 2}).instance == "social.example"


def test_parse_document_round_trips_through_the_cache_form(client):
    document = _parse(client.wellknown())
    assert WellKnownDocument.from_json(document.to_json()) == document


def _other_key_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_parse_document_refuses_a_p384_key(client):
    p384 = _other_key_pem(ec.generate_private_key(ec.SECP384R1()))
    assert "P-256" in _refused(client.wellknown() | {"registrationPublicKey": p384}).message


def test_parse_document_refuses_an_rsa_key(client):
    rsa_pem = _other_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    _refused(client.wellknown() | {"registrationPublicKey": rsa_pem})


def test_parse_document_refuses_a_p384_webhook_key(client):
    p384 = _other_key_pem(ec.generate_private_key(ec.SECP384R1()))
    _refused(client.wellknown() | {"webhook": {"algorithm": "ES256", "publicKey": p384}})


@pytest.mark.parametrize(
    "form",
    ["jwk", "base64-der", "raw-point", "pem-without-markers", "pkcs1-label"],
)
def test_parse_document_accepts_spki_pem_only(client, form):
    public = client.registration_key.public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = public_pem(public)
    key = {
        "jwk": json.dumps({"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}),
        "base64-der": base64.b64encode(der).decode(),
        "raw-point": base64.b64encode(
            public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ).decode(),
        "pem-without-markers": "".join(pem.splitlines()[1:-1]),
        "pkcs1-label": pem.replace("PUBLIC KEY", "EC PUBLIC KEY"),
    }[form]
    _refused(client.wellknown() | {"registrationPublicKey": key})


@pytest.mark.parametrize(
    "change",
    [
        {"instance": None},
        {"instance": 7},
        {"instance": ""},
        {"tenant": "has space"},
        {"tenant": "a#b"},
        {"tenant": 5},
        {"registrationPublicKey": None},
        {"registrationPublicKey": "x" * 5000},
        {"webhook": "ES256"},
        {"webhook": {"algorithm": "ES384", "publicKey": "x"}},
        {"webhook": {"algorithm": "ES256"}},
    ],
)
def test_parse_document_refuses_wrong_fields(client, change):
    _refused(client.wellknown() | change)


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"instance": "a", "instance": "b"}', b"\xff\xfe", b"null"],
    ids=["truncated", "array", "duplicate-key", "not-utf8", "null"],
)
def test_parse_document_refuses_malformed_json(body):
    _refused(body)


# ---------------------------------------------------------------- fetching


def test_wellknown_url_is_https_for_host_names_and_as_given_for_origins():
    assert wellknown_url("social.example") == "https://social.example/.well-known/takos-push.json"
    assert wellknown_url("social.example:8443").startswith("https://social.example:8443/")
    assert wellknown_url("http://127.0.0.1:8080") == (
        "http://127.0.0.1:8080/.well-known/takos-push.json"
    )


def _resolver(addresses: list[str]):
    return lambda host, port: addresses


def _fetch(handler, *, settings=PRODUCTION, addresses=(PUBLIC_ADDRESS,), domain="social.example"):
    return fetch_document(
        domain,
        settings=settings,
        resolver=_resolver(list(addresses)),
        transport=httpx.MockTransport(handler),
    )


def test_fetch_document_asks_the_name_itself_for_an_uncompressed_document(client):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=client.wellknown())

    document = _fetch(handler)
    assert document.instance == "social.example"
    (request,) = seen
    # The name stays in the URL (Host, SNI, certificate, pooling); the connection goes to the
    # checked address (tests/unit/test_outbound.py).
    assert str(request.url) == "https://social.example/.well-known/takos-push.json"
    assert request.headers["host"] == "social.example"
    assert "sni_hostname" not in request.extensions
    assert request.headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.8", "169.254.169.254", "::1"])
def test_fetch_document_refuses_private_addresses_before_connecting(address):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("must not connect")

    with pytest.raises(UnsafeUrlError):
        _fetch(handler, addresses=[address])


def test_fetch_document_refuses_http_under_production_rules():
    with pytest.raises(UnsafeUrlError):
        _fetch(lambda request: httpx.Response(200), domain="http://social.example")


def test_fetch_document_allows_http_origins_where_private_urls_are(client):
    document = _fetch(
        lambda request: httpx.Response(200, json=client.wellknown()),
        settings=LOCAL,
        domain="http://127.0.0.1:8080",
    )
    assert document.instance == "social.example"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_fetch_document_does_not_follow_redirects(status):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/.well-known/takos-push.json", "followed a redirect"
        return httpx.Response(status, headers={"location": "http://169.254.169.254/"})

    with pytest.raises(InvalidWellKnownError, match="redirect"):
        _fetch(handler)


def test_fetch_document_refuses_a_declared_size_over_the_cap():
    body = b" " * (MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(InvalidWellKnownError, match="exceeds"):
        _fetch(lambda request: httpx.Response(200, content=body))


def test_fetch_document_stops_reading_a_streamed_body_over_the_cap():
    chunks_read = []

    async def chunks():
        for _ in range(1000):
            chunks_read.append(1)
            yield b" " * 4096

    with pytest.raises(InvalidWellKnownError, match="exceeds"):
        _fetch(lambda request: httpx.Response(200, content=chunks()))
    assert len(chunks_read) <= MAX_DOCUMENT_BYTES // 4096 + 2


def test_fetch_document_refuses_a_compressed_body(client):
    with pytest.raises(InvalidWellKnownError, match="compressed"):
        _fetch(
            lambda request: httpx.Response(
                200, content=b"\x1f\x8b", headers={"content-encoding": "gzip"}
            )
        )


@pytest.mark.parametrize("status", [404, 500, 204])
def test_fetch_document_reports_other_statuses_as_unavailable(status):
    with pytest.raises(WellKnownUnavailableError) as refused:
        _fetch(lambda request: httpx.Response(status))
    assert (refused.value.status, refused.value.code) == (401, "wellknown_unavailable")


def test_fetch_document_reports_network_errors_as_unavailable():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    with pytest.raises(WellKnownUnavailableError):
        _fetch(handler)


def test_fetch_document_gives_up_on_a_trickling_server_at_the_deadline(monkeypatch):
    monkeypatch.setattr(wellknown, "FETCH_DEADLINE_SECONDS", 0.6)
    with TarpitServer(interval=0.15, duration=5) as tarpit:
        started = time.monotonic()
        with pytest.raises(WellKnownUnavailableError) as refused:
            fetch_document(tarpit.url, settings=LOCAL)
        elapsed = time.monotonic() - started

    assert refused.value.message == "the well-known document took too long to arrive"
    assert 0.6 <= elapsed < 2.5  # not the tarpit's 5 s; the slack is for a loaded CI machine
