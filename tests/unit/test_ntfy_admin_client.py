"""pushgate's client of ntfy's admin API against the ntfy stand-in (which answers with ntfy's
own validation, codes and statuses), and the deployment settings of managed channels."""

from __future__ import annotations

import socket

import pytest

from pushgate.errors import NotFoundError
from pushgate.managed_ntfy import config
from pushgate.managed_ntfy.admin import NtfyAdmin, NtfyAdminError, NtfyUnreachableError
from pushgate.managed_ntfy.config import NtfyUnavailableError
from pushgate.settings import Settings
from tests.standins import NtfyStandin


@pytest.fixture
def ntfy():
    with NtfyStandin(default_access="deny-all") as server:
        yield server


def test_admin_creates_an_account_grants_it_one_topic_and_deletes_it(ntfy):
    admin = NtfyAdmin(ntfy.url, ntfy.new_admin_token())

    admin.put_user("pgu_reader", "first-password")
    admin.put_user("pgu_reader", "second-password")  # PUT upserts: a repeated step is harmless
    admin.grant("pgu_reader", "pg_topic", "read-only")
    granted = [(g.topic, g.permission_name) for g in ntfy.grants("pgu_reader")]
    admin.revoke("pgu_reader", "pg_topic")
    revoked = ntfy.grants("pgu_reader")
    deleted, deleted_again = admin.delete_user("pgu_reader"), admin.delete_user("pgu_reader")

    assert granted == [("pg_topic", "read-only")]
    assert revoked == ()
    assert (deleted, deleted_again) == (True, False)
    assert [u.username for u in ntfy.users()] == ["admin"]


def test_admin_raises_ntfys_status_and_code(ntfy):
    admin = NtfyAdmin(ntfy.url, ntfy.new_admin_token())

    with pytest.raises(NtfyAdminError) as unknown_user:
        admin.grant("pgu_nobody", "pg_topic", "read-only")
    with pytest.raises(NtfyAdminError) as bad_name:
        admin.put_user("no spaces allowed", "password")

    assert (unknown_user.value.status, unknown_user.value.code) == (400, 40031)
    assert (bad_name.value.status, bad_name.value.code) == (400, 40000)


def test_admin_with_a_token_that_is_not_an_admins_is_refused(ntfy):
    admin = NtfyAdmin(ntfy.url, ntfy.new_token())

    with pytest.raises(NtfyAdminError) as refused:
        admin.put_user("pgu_reader", "password")

    assert (refused.value.status, refused.value.code) == (401, 40101)
    assert "pgu_reader" not in {u.username for u in ntfy.users()}


def test_admin_without_an_answer_raises_unreachable():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    admin = NtfyAdmin(f"http://127.0.0.1:{port}", "tk_x")

    with pytest.raises(NtfyUnreachableError):
        admin.put_user("pgu_reader", "password")


def test_admin_never_revokes_every_entry_of_an_account(ntfy):
    admin = NtfyAdmin(ntfy.url, ntfy.new_admin_token())

    with pytest.raises(ValueError, match="topic is required"):
        admin.revoke("pgu_reader", "")

    assert ntfy.admin_calls() == ()


@pytest.mark.parametrize(
    ("url", "allow_private", "expected"),
    [
        ("https://ntfy.example.com/", False, "https://ntfy.example.com"),
        ("https://ntfy.example.com/base", False, "https://ntfy.example.com/base"),
        ("http://127.0.0.1:8080", True, "http://127.0.0.1:8080"),
    ],
)
def test_config_server_url_is_https_unless_private_urls_are_allowed(url, allow_private, expected):
    settings = Settings(PUSHGATE_NTFY_URL=url, PUSHGATE_ALLOW_PRIVATE_URLS=allow_private)

    assert config.server(settings).url == expected


@pytest.mark.parametrize("url", ["http://ntfy.example.com", "https://127.0.0.1", "ftp://x.io"])
def test_config_refuses_a_server_url_outside_the_rules_with_503(url):
    settings = Settings(PUSHGATE_NTFY_URL=url, PUSHGATE_ALLOW_PRIVATE_URLS=False)

    with pytest.raises(NtfyUnavailableError) as refused:
        config.server(settings)

    assert (refused.value.status, refused.value.code) == (503, "ntfy_unavailable")


def test_config_without_a_server_the_feature_is_off():
    with pytest.raises(NotFoundError) as off:
        config.server(Settings())

    assert (off.value.status, off.value.code) == (404, "ntfy_not_configured")


def test_config_without_an_admin_token_answers_503():
    settings = Settings(PUSHGATE_NTFY_URL="https://ntfy.example.com")

    with pytest.raises(NtfyUnavailableError):
        config.admin_token(settings)
    assert config.publish_token(Settings(PUSHGATE_NTFY_PUBLISH_TOKEN="tk_p")) == "tk_p"
