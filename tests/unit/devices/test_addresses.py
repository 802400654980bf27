"""Push-token validation per platform: strict, and silent about the token itself."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pushgate.devices.addresses import (
    FcmAddress,
    InvalidPushTokenError,
    NtfyAddress,
    WebPushAddress,
    deserialize,
    parse_push_token,
    serialize,
)
from pushgate.errors import BadRequestError
from pushgate.settings import Settings

PRODUCTION = Settings.from_environ({})
LOCAL = Settings.from_environ({"PUSHGATE_ALLOW_PRIVATE_URLS": "1"})
FCM_TOKEN = "fK3x9:APA91bH" + "a" * 140


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _keys() -> dict[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {"p256dh": _b64(point), "auth": _b64(b"0123456789abcdef")}


def public_resolver(host: str, port: int) -> list[str]:
    return {"ntfy.sh": ["159.203.148.75"], "ntfy.internal": ["10.0.0.7"]}[host]


def _parse(platform, token, settings=PRODUCTION):
    return parse_push_token(platform, token, settings, resolver=public_resolver)


@pytest.mark.parametrize("platform", ["android", "ios", "web"])
def test_parse_push_token_accepts_fcm_tokens(platform):
    assert _parse(platform, FCM_TOKEN) == FcmAddress(FCM_TOKEN)


def test_parse_push_token_accepts_web_push_subscription_object_and_string():
    keys = _keys()
    subscription = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc:def", "keys": keys}
    expected = WebPushAddress(subscription["endpoint"], keys["p256dh"], keys["auth"])
    assert _parse("web", subscription) == expected
    assert _parse("web", json.dumps(subscription)) == expected


def test_parse_push_token_accepts_keyless_web_push_subscription():
    address = _parse("web", {"endpoint": "https://updates.push.services.mozilla.com/wpush/v2/x"})
    assert (address.p256dh, address.auth) == (None, None)


def test_parse_push_token_accepts_ntfy_topic_with_token():
    address = _parse("ntfy", {"url": "https://ntfy.sh/alerts_42", "token": "tk_abc"})
    assert address == NtfyAddress("https://ntfy.sh/alerts_42", "tk_abc")


@pytest.mark.parametrize(
    ("platform", "token"),
    [
        ("android", "short"),
        ("android", "x" * 4097),
        ("ios", "bad token with spaces" * 3),
        ("android", {"endpoint": "https://fcm.googleapis.com/x"}),
        ("web", '{"endpoint": '),
        ("web", "[1, 2]"),
        (
            "web",
            {
                "endpoint": "https://fcm.googleapis.com/x",
                "keys": {"p256dh": "AAAA", "auth": "AAAA"},
            },
        ),
        (
            "web",
            {"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": _keys()["p256dh"]}},
        ),
        (
            "web",
            {
                "endpoint": "https://fcm.googleapis.com/x",
                "keys": {"p256dh": _keys()["p256dh"], "auth": _b64(b"short")},
            },
        ),
        (
            "web",
            {
                "endpoint": "https://fcm.googleapis.com/x",
                "keys": {"p256dh": _b64(b"\x04" + b"\x01" * 64), "auth": _b64(b"0123456789abcdef")},
            },
        ),
        ("web", {"endpoint": "https://fcm.googleapis.com/x", "extra": 1}),
        ("web", {"keys": _keys()}),
        ("ntfy", {"url": "https://ntfy.sh/"}),
        ("ntfy", {"url": "https://ntfy.sh/a/b"}),
        ("ntfy", {"url": "https://ntfy.sh/topic?x=1"}),
        ("ntfy", {"url": "https://ntfy.sh/" + "t" * 65}),
        ("ntfy", {"url": "https://ntfy.sh/ok", "token": "has space"}),
        ("ntfy", "not json"),
    ],
)
def test_parse_push_token_refuses_malformed_tokens(platform, token):
    with pytest.raises(BadRequestError) as caught:
        _parse(platform, token)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",
        "https://push.evil.example/fcm/send/x",
        "https://fcm.googleapis.com.evil.example/x",
        "https://127.0.0.1/push/x",
        "https://10.0.0.1/push/x",
        "https://user:pw@fcm.googleapis.com/x",
    ],
)
def test_parse_push_token_refuses_web_push_endpoints_off_the_allow_list(endpoint):
    with pytest.raises(BadRequestError) as caught:
        _parse("web", {"endpoint": endpoint})
    assert caught.value.code == "unsafe_url"


def test_parse_push_token_refuses_an_endpoint_that_is_not_a_url():
    for settings in (PRODUCTION, LOCAL):
        with pytest.raises(BadRequestError) as caught:
            _parse("web", {"endpoint": "https://[fcm.googleapis.com/fcm/send/x"}, settings)
        assert (caught.value.status, caught.value.code) == (400, "unsafe_url")
        assert caught.value.message == "push_token.endpoint is not a valid URL"


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/t", "https://10.1.1.1/t", "http://ntfy.sh/t", "https://ntfy.internal/t"],
)
def test_parse_push_token_refuses_ntfy_servers_on_private_addresses(url):
    with pytest.raises(BadRequestError) as caught:
        _parse("ntfy", {"url": url})
    assert caught.value.code == "unsafe_url"


def test_parse_push_token_allows_loopback_services_in_local_mode():
    address = _parse("web", {"endpoint": "http://127.0.0.1:9000/push/abc", "keys": _keys()}, LOCAL)
    assert address.endpoint == "http://127.0.0.1:9000/push/abc"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/x",  # does not resolve
        "https://push.public.example/x",  # resolves to a public address
        "http://push.public.example/x",
        "https://8.8.8.8/push/x",
        "https://fcm.googleapis.com.evil.example/x",
    ],
)
def test_parse_push_token_keeps_the_allow_list_for_public_hosts_in_local_mode(endpoint):
    def resolver(host: str, port: int) -> list[str]:
        if host == "push.public.example":
            return ["93.184.216.34"]
        raise OSError("no such host")

    with pytest.raises(BadRequestError) as caught:
        parse_push_token("web", {"endpoint": endpoint}, LOCAL, resolver=resolver)
    assert (caught.value.code, caught.value.message) == (
        "unsafe_url",
        "push_token.endpoint is not on a known push service",
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:9000/push/abc",
        "http://[::1]:9000/push/abc",
        "https://10.0.0.5/push/abc",
        "http://standin.internal:8080/push/abc",  # resolves to a private address
        "https://fcm.googleapis.com/fcm/send/abc",
    ],
)
def test_parse_push_token_admits_private_push_services_in_local_mode(endpoint):
    def resolver(host: str, port: int) -> list[str]:
        return {"standin.internal": ["10.1.2.3", "fd00::5"]}[host]

    address = parse_push_token("web", {"endpoint": endpoint}, LOCAL, resolver=resolver)
    assert address == WebPushAddress(endpoint)


def test_parse_push_token_honours_a_configured_allow_list():
    settings = Settings.from_environ({"PUSHGATE_WEBPUSH_ALLOWED_HOSTS": "push.example.org"})
    address = parse_push_token("web", {"endpoint": "https://eu.push.example.org/x"}, settings)
    assert address.endpoint == "https://eu.push.example.org/x"
    with pytest.raises(BadRequestError):
        parse_push_token("web", {"endpoint": "https://fcm.googleapis.com/x"}, settings)


def test_parse_push_token_errors_never_echo_the_token():
    secret = "SECRET" * 10 + " !"
    with pytest.raises(InvalidPushTokenError) as caught:
        _parse("android", secret)
    assert "SECRET" not in caught.value.message


@pytest.mark.parametrize(
    "address",
    [
        FcmAddress(FCM_TOKEN),
        WebPushAddress("https://x/y", "p", "a"),
        NtfyAddress("https://n/t", None),
    ],
)
def test_serialize_round_trips_every_address_kind(address):
    assert deserialize(serialize(address)) == address
