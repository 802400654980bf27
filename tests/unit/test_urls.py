"""Outbound URL safety: nothing private, reserved or disguised gets through."""

from __future__ import annotations

import pytest

from pushgate.urls import UnsafeUrlError, check_outbound_url

PUBLIC = {"hooks.example.com": ["93.184.216.34"], "v6.example.com": ["2606:2800:220:1::1"]}
PRIVATE_NAMES = {
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.1"],
    "metadata.example.com": ["169.254.169.254"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
}


def resolver(host: str, port: int) -> list[str]:
    names = PUBLIC | PRIVATE_NAMES
    if host not in names:
        raise OSError("no such host")
    return names[host]


UNSAFE = [
    "http://hooks.example.com/receipts",
    "ftp://hooks.example.com/receipts",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.0.10/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://0177.0.0.1/hook",
    "https://127.1/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:7f00:1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[2002:7f00:1::]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://internal.example.com/hook",
    "https://mixed.example.com/hook",
    "https://metadata.example.com/hook",
    "https://mapped.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
    "https://user@hooks.example.com/hook",
    "https://hooks.example.com@10.0.0.1/hook",
    "https://unresolvable.example.com/hook",
    "https:///hook",
    "https://hooks.example.com:99999/hook",
    "https://hooks.exa mple.com/hook",
    "https://hooks.example.com/\r\nX-Injected: 1",
    "https://" + "a" * 2100 + ".com/",
]


@pytest.mark.parametrize("url", UNSAFE)
def test_check_outbound_url_refuses_unsafe_url(url):
    with pytest.raises(UnsafeUrlError) as caught:
        check_outbound_url(url, allow_private=False, field="webhook_url", resolver=resolver)
    assert caught.value.status == 400
    assert caught.value.code == "unsafe_url"
    assert "webhook_url" in caught.value.message


def test_check_outbound_url_accepts_public_https_and_keeps_addresses():
    checked = check_outbound_url(
        "https://Hooks.Example.com:8443/r?x=1", allow_private=False, resolver=resolver
    )
    assert (checked.host, checked.port, checked.addresses) == (
        "hooks.example.com",
        8443,
        ("93.184.216.34",),
    )
    assert checked.origin == "https://hooks.example.com:8443"


def test_check_outbound_url_accepts_public_ipv6_name():
    checked = check_outbound_url("https://v6.example.com/", allow_private=False, resolver=resolver)
    assert checked.addresses == ("2606:2800:220:1::1",)


def test_check_outbound_url_allows_loopback_http_when_private_allowed():
    checked = check_outbound_url("http://127.0.0.1:8080/hook", allow_private=True)
    assert checked.origin == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "url", ["http://u:p@127.0.0.1/", "gopher://127.0.0.1/", "http://0x7f000001/"]
)
def test_check_outbound_url_refuses_credentials_and_odd_forms_even_when_private_allowed(url):
    with pytest.raises(UnsafeUrlError):
        check_outbound_url(url, allow_private=True)


def test_check_outbound_url_error_never_echoes_the_url():
    secret_url = "https://user:s3cr3t@hooks.example.com/hook"
    with pytest.raises(UnsafeUrlError) as caught:
        check_outbound_url(secret_url, allow_private=False, resolver=resolver)
    assert "s3cr3t" not in caught.value.message
