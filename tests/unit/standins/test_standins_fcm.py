"""The FCM stand-in refuses what Google refuses and answers FCM's own error bodies."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standins import FcmStandin, Step, fail_first, make_service_account, sequence
from tests.standins.reference import google_assertion, token_request

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def access_token(http: httpx.Client, fcm: FcmStandin, account: dict[str, str]) -> str:
    reply = http.post(fcm.token_uri, data=token_request(google_assertion(account)))
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def send(
    http: httpx.Client,
    fcm: FcmStandin,
    token: str,
    message: dict[str, Any],
    project_id: str = "demo-project",
) -> httpx.Response:
    return http.post(
        fcm.send_url(project_id),
        json={"message": message},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def account(fcm: FcmStandin) -> dict[str, str]:
    return fcm.new_service_account("demo-project")


@pytest.fixture
def bearer(http: httpx.Client, fcm: FcmStandin, account: dict[str, str]) -> str:
    return access_token(http, fcm, account)


def refusal_of(reply: httpx.Response) -> tuple[int, str]:
    return reply.status_code, reply.json()["error"]


# -- service accounts and the token endpoint --------------------------------------------------


def test_make_service_account_is_a_google_key_file() -> None:
    info = make_service_account("http://127.0.0.1:1/token", project_id="p-1")

    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    assert info["type"] == "service_account"
    assert info["project_id"] == "p-1"
    assert info["token_uri"] == "http://127.0.0.1:1/token"
    assert info["client_email"].endswith("@p-1.iam.gserviceaccount.com")
    assert len(info["private_key_id"]) == 40
    assert info["client_id"].isdigit()


def test_fcm_token_endpoint_issues_a_bearer_token_for_a_valid_assertion(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    reply = http.post(fcm.token_uri, data=token_request(google_assertion(account)))

    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["access_token"].startswith("ya29.")
    assert fcm.token_requests == 1
    assert fcm.tokens_issued == 1


def test_fcm_token_endpoint_refuses_a_signature_by_another_key(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    reply = http.post(fcm.token_uri, data=token_request(google_assertion(account, key=other_key)))

    assert refusal_of(reply) == (400, "invalid_grant")
    assert reply.json()["error_description"] == "Invalid JWT Signature."


def test_fcm_token_endpoint_refuses_an_issuer_it_does_not_know(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, issuer="someone@else.iam.gserviceaccount.com")

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")


def test_fcm_token_endpoint_refuses_an_untrusted_service_account(
    http: httpx.Client, fcm: FcmStandin
) -> None:
    untrusted = make_service_account(fcm.token_uri)

    reply = http.post(fcm.token_uri, data=token_request(google_assertion(untrusted)))

    assert refusal_of(reply) == (400, "invalid_grant")


def test_fcm_token_endpoint_refuses_another_audience(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, audience="https://accounts.example.com/token")

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")
    assert "audience" in reply.json()["error_description"]


def test_fcm_token_endpoint_accepts_googles_own_token_audience(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    # google-auth (firebase-admin) always names Google's endpoint, whatever token_uri says.
    assertion = google_assertion(account, audience="https://oauth2.googleapis.com/token")

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert reply.status_code == 200, reply.text
    assert reply.json()["token_type"] == "Bearer"


def test_fcm_token_endpoint_refuses_an_expired_assertion(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, issued_at=time.time() - 3700, lifetime=3600)

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")


def test_fcm_token_endpoint_refuses_an_assertion_living_over_an_hour(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, lifetime=3601)

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")
    assert "short-lived" in reply.json()["error_description"]


def test_fcm_token_endpoint_refuses_an_assertion_issued_in_the_future(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, issued_at=time.time() + 120, lifetime=600)

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")


def test_fcm_token_endpoint_refuses_an_assertion_without_scope(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    reply = http.post(fcm.token_uri, data=token_request(google_assertion(account, scope=None)))

    assert refusal_of(reply) == (400, "invalid_scope")


def test_fcm_token_endpoint_refuses_a_kid_naming_another_key(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, key_id="0" * 40)

    reply = http.post(fcm.token_uri, data=token_request(assertion))

    assert refusal_of(reply) == (400, "invalid_grant")


def test_fcm_token_endpoint_refuses_another_grant_type(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    form = {**token_request(google_assertion(account)), "grant_type": "client_credentials"}

    reply = http.post(fcm.token_uri, data=form)

    assert refusal_of(reply) == (400, "unsupported_grant_type")


# -- authentication of messages:send ----------------------------------------------------------


def test_fcm_send_refuses_a_request_without_bearer_token(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    reply = http.post(fcm.send_url(), json={"message": {"token": "t"}})

    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"
    assert reply.json()["error"]["code"] == 401


def test_fcm_send_refuses_an_expired_access_token(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.expire_tokens()

    reply = send(http, fcm, bearer, {"token": "t"})

    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


def test_fcm_send_refuses_an_access_token_after_its_lifetime(http: httpx.Client) -> None:
    now = [time.time()]
    with FcmStandin(now=lambda: now[0]) as fcm:
        account = fcm.new_service_account()
        now[0] = time.time()
        assertion = google_assertion(account, issued_at=now[0])
        token = http.post(fcm.token_uri, data=token_request(assertion)).json()["access_token"]
        now[0] += 3600

        reply = send(http, fcm, token, {"token": "t"})

    assert reply.status_code == 401


def test_fcm_send_refuses_a_revoked_access_token(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.revoke_token(bearer)

    assert send(http, fcm, bearer, {"token": "t"}).status_code == 401


def test_fcm_send_refuses_a_token_without_the_messaging_scope(
    http: httpx.Client, fcm: FcmStandin, account: dict[str, str]
) -> None:
    assertion = google_assertion(account, scope="https://www.googleapis.com/auth/userinfo.email")
    token = http.post(fcm.token_uri, data=token_request(assertion)).json()["access_token"]

    reply = send(http, fcm, token, {"token": "t"})

    assert reply.status_code == 403
    assert reply.json()["error"]["status"] == "PERMISSION_DENIED"


def test_fcm_send_refuses_another_project(http: httpx.Client, fcm: FcmStandin, bearer: str) -> None:
    reply = send(http, fcm, bearer, {"token": "t"}, project_id="other-project")

    assert reply.status_code == 403
    assert reply.json()["error"]["status"] == "PERMISSION_DENIED"


# -- the message schema -----------------------------------------------------------------------

PUSHGATE_MESSAGE: dict[str, Any] = {
    "token": "device-token-1",
    "notification": {"title": "Hello", "body": "World", "image": "https://example.com/i.png"},
    "data": {"notification_id": "ntf_1", "kind": "chat"},
    "android": {
        "ttl": "3600s",
        "collapse_key": "chat-1",
        "priority": "HIGH",
        "notification": {"channel_id": "default", "tag": "chat-1"},
    },
    "apns": {
        "headers": {
            "apns-expiration": "1900000000",
            "apns-priority": "10",
            "apns-collapse-id": "chat-1",
        },
        "payload": {"aps": {"sound": "default"}},
    },
    "webpush": {
        "headers": {"TTL": "3600", "Urgency": "high", "Topic": "chat-1"},
        "fcm_options": {"link": "https://example.com/chat/1"},
    },
}


def test_fcm_send_delivers_a_complete_message(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = send(http, fcm, bearer, PUSHGATE_MESSAGE)

    assert reply.status_code == 200, reply.text
    assert reply.json()["name"].startswith("projects/demo-project/messages/")
    (record,) = fcm.delivered()
    assert record.token == "device-token-1"
    assert record.notification_id == "ntf_1"
    assert record.message == PUSHGATE_MESSAGE
    assert fcm.deliveries() == {("ntf_1", "device-token-1"): 1}


def test_fcm_send_accepts_lower_camel_case_field_names(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    message = {"token": "t", "android": {"collapseKey": "k", "ttl": "0.5s"}}

    assert send(http, fcm, bearer, message).status_code == 200


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"token": "t", "data": {"notification_id": "n", "count": 12}}, "message.data[1].value"),
        ({"token": "t", "notification": {"title": 5}}, "message.notification.title"),
        ({"token": "t", "android": {"ttl": "3600"}}, "message.android.ttl"),
        ({"token": "t", "android": {"ttl": 3600}}, "message.android.ttl"),
        ({"token": "t", "android": {"priority": "high"}}, "message.android.priority"),
        (
            {"token": "t", "apns": {"headers": {"apns-priority": 10}}},
            "message.apns.headers[0].value",
        ),
    ],
    ids=["data-int", "title-int", "ttl-no-s", "ttl-number", "priority-lowercase", "apns-int"],
)
def test_fcm_send_refuses_a_wrongly_typed_field(
    http: httpx.Client, fcm: FcmStandin, bearer: str, message: dict[str, Any], field: str
) -> None:
    reply = send(http, fcm, bearer, message)

    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    (detail,) = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["fieldViolations"][0]["field"] == field
    assert fcm.delivered() == ()


def test_fcm_send_refuses_a_non_string_data_value_in_google_words(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = send(http, fcm, bearer, {"token": "t", "data": {"badge": 12}})

    assert reply.json()["error"]["message"] == (
        "Invalid value at 'message.data[0].value' (TYPE_STRING), 12"
    )


def test_fcm_send_refuses_an_unknown_message_field(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = send(http, fcm, bearer, {"token": "t", "ttl": "3600s"})

    assert reply.status_code == 400
    assert 'Unknown name "ttl"' in reply.json()["error"]["message"]


def test_fcm_send_refuses_an_unknown_request_field(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = http.post(
        fcm.send_url(),
        json={"message": {"token": "t"}, "dry_run": True},
        headers={"Authorization": f"Bearer {bearer}"},
    )

    assert reply.status_code == 400


@pytest.mark.parametrize(
    "message",
    [
        {"token": "t", "topic": "news"},
        {"notification": {"title": "to nobody"}},
        {"token": ""},
        {"topic": "not a topic!"},
    ],
    ids=["two-targets", "no-target", "empty-token", "bad-topic"],
)
def test_fcm_send_refuses_a_message_without_exactly_one_valid_target(
    http: httpx.Client, fcm: FcmStandin, bearer: str, message: dict[str, Any]
) -> None:
    reply = send(http, fcm, bearer, message)

    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "headers",
    [
        {"apns-priority": "7"},
        {"apns-expiration": "tomorrow"},
        {"apns-collapse-id": "x" * 65},
    ],
    ids=["priority", "expiration", "collapse-id"],
)
def test_fcm_send_refuses_invalid_apns_headers(
    http: httpx.Client, fcm: FcmStandin, bearer: str, headers: dict[str, str]
) -> None:
    reply = send(http, fcm, bearer, {"token": "t", "apns": {"headers": headers}})

    assert reply.status_code == 400


def test_fcm_send_refuses_a_plain_http_webpush_link(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    message = {"token": "t", "webpush": {"fcm_options": {"link": "http://example.com"}}}

    assert send(http, fcm, bearer, message).status_code == 400


def test_fcm_send_refuses_a_reserved_data_key(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    message = {"token": "t", "data": {"google.sent_time": "1"}}

    assert send(http, fcm, bearer, message).status_code == 400


def test_fcm_send_refuses_data_over_4096_bytes(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    message = {"token": "t", "data": {"blob": "x" * 4096}}

    assert send(http, fcm, bearer, message).status_code == 400


def test_fcm_send_refuses_a_body_that_is_not_json(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = http.post(
        fcm.send_url(), content=b"{not json", headers={"Authorization": f"Bearer {bearer}"}
    )

    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_fcm_send_validate_only_delivers_nothing(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    reply = http.post(
        fcm.send_url(),
        json={"message": {"token": "t"}, "validate_only": True},
        headers={"Authorization": f"Bearer {bearer}"},
    )

    assert reply.json() == {"name": "projects/demo-project/messages/fake_message_id"}
    assert fcm.delivered() == ()


# -- scripted outcomes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        ("UNREGISTERED", 404, "NOT_FOUND"),
        ("SENDER_ID_MISMATCH", 403, "PERMISSION_DENIED"),
        ("UNAVAILABLE", 503, "UNAVAILABLE"),
        ("INTERNAL", 500, "INTERNAL"),
        ("THIRD_PARTY_AUTH_ERROR", 401, "UNAUTHENTICATED"),
    ],
    ids=lambda expected: expected[0],
)
def test_fcm_script_answers_the_fcm_error_body(
    http: httpx.Client, fcm: FcmStandin, bearer: str, expected: tuple[str, int, str]
) -> None:
    code, status, rpc_status = expected
    fcm.script("t", code)

    reply = send(http, fcm, bearer, {"token": "t"})

    assert reply.status_code == status
    error = reply.json()["error"]
    assert (error["code"], error["status"]) == (status, rpc_status)
    assert error["details"] == [{"@type": FCM_ERROR, "errorCode": code}]
    assert fcm.delivered() == ()
    assert fcm.attempts("t") == 1


def test_fcm_script_invalid_token_carries_a_field_violation_on_the_token(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.script("t", "INVALID_ARGUMENT")

    reply = send(http, fcm, bearer, {"token": "t"})

    assert reply.status_code == 400
    details = reply.json()["error"]["details"]
    assert {"@type": FCM_ERROR, "errorCode": "INVALID_ARGUMENT"} in details
    violations = [v for d in details for v in d.get("fieldViolations", ())]
    assert violations[0]["field"] == "message.token"


def test_fcm_script_quota_exceeded_says_when_to_retry(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.script("t", fail_first(1, "QUOTA_EXCEEDED", retry_after=30))

    reply = send(http, fcm, bearer, {"token": "t"})

    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "30"
    assert reply.json()["error"]["details"][0]["errorCode"] == "QUOTA_EXCEEDED"


def test_fcm_script_unavailable_may_carry_retry_after(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.script("t", sequence(Step("UNAVAILABLE"), Step("UNAVAILABLE", retry_after=5)))

    first = send(http, fcm, bearer, {"token": "t"})
    second = send(http, fcm, bearer, {"token": "t"})

    assert "retry-after" not in first.headers
    assert second.headers["retry-after"] == "5"


def test_fcm_script_fails_the_first_requests_then_delivers(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.script("t", fail_first(2, "INTERNAL"))

    statuses = [send(http, fcm, bearer, {"token": "t"}).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert fcm.count(device="t") == 1
    assert fcm.attempts("t") == 3


def test_fcm_script_reset_drops_the_connection_without_an_answer(
    http: httpx.Client, fcm: FcmStandin, bearer: str
) -> None:
    fcm.script("t", "reset")

    with pytest.raises(httpx.TransportError):
        send(http, fcm, bearer, {"token": "t"})
    assert fcm.received()[0].outcome == "reset"


def test_fcm_script_refuses_an_outcome_fcm_does_not_have(fcm: FcmStandin) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        fcm.script("t", "NOT_A_CODE")


def test_fcm_answers_404_outside_its_api(http: httpx.Client, fcm: FcmStandin) -> None:
    assert http.post(f"{fcm.url}/v1/projects/p/messages:list").status_code == 404


# -- transport --------------------------------------------------------------------------------


def test_fcm_serves_http2_over_tls_with_alpn() -> None:
    with FcmStandin(tls=True) as fcm:
        account = fcm.new_service_account()
        with httpx.Client(http2=True, verify=fcm.client_ssl_context()) as client:
            token = access_token(client, fcm, account)
            reply = send(client, fcm, token, {"token": "t"})

    assert fcm.url.startswith("https://")
    assert reply.http_version == "HTTP/2"
    assert reply.status_code == 200
    assert fcm.delivered()[0].http_version == "2"


def test_fcm_serves_http2_with_prior_knowledge(fcm: FcmStandin, account: dict[str, str]) -> None:
    with httpx.Client(http1=False, http2=True) as client:
        token = access_token(client, fcm, account)
        reply = send(client, fcm, token, {"token": "t"})

    assert reply.http_version == "HTTP/2"
    assert fcm.connections == {"h2": 1}


def test_fcm_reset_over_http2_resets_only_that_stream(
    fcm: FcmStandin, account: dict[str, str]
) -> None:
    fcm.script("doomed", "reset")
    with httpx.Client(http1=False, http2=True) as client:
        token = access_token(client, fcm, account)
        with pytest.raises(httpx.TransportError):
            send(client, fcm, token, {"token": "doomed"})
        after = send(client, fcm, token, {"token": "fine"})

    assert after.status_code == 200


def test_fcm_latency_delays_every_answer(http: httpx.Client) -> None:
    with FcmStandin(latency_ms=200) as fcm:
        started = time.monotonic()
        http.post(fcm.token_uri, data={})
        elapsed = time.monotonic() - started

    assert elapsed >= 0.2
