"""build_fcm_message: the FCM HTTP v1 `Message` for one notification and one token."""

from __future__ import annotations

from pushgate.providers import FcmMessage, build_fcm_message

NOW = 1_700_000_000.0
TOKEN = "fcm-registration-token"


def _message(**fields: object) -> dict:
    content = FcmMessage(notification_id="ntf_1", title="Hi", body="There", **fields)  # type: ignore[arg-type]
    return build_fcm_message(TOKEN, content, now=NOW)["message"]


def test_build_fcm_message_carries_token_and_notification() -> None:
    message = _message(image="https://cdn.test/i.png")

    assert message["token"] == TOKEN
    assert message["notification"] == {
        "title": "Hi",
        "body": "There",
        "image": "https://cdn.test/i.png",
    }


def test_build_fcm_message_leaves_out_absent_notification_fields() -> None:
    content = FcmMessage(notification_id="ntf_1", body="only a body")

    assert build_fcm_message(TOKEN, content, now=NOW)["message"]["notification"] == {
        "body": "only a body"
    }


def test_build_fcm_message_sends_data_as_strings_with_the_notification_id() -> None:
    message = _message(data={"kind": "chat", "count": 3, "flags": {"a": True}})

    assert message["data"] == {
        "kind": "chat",
        "count": "3",
        "flags": '{"a":true}',
        "notification_id": "ntf_1",
    }


def test_build_fcm_message_does_not_mutate_the_callers_data() -> None:
    data = {"kind": "chat"}

    _message(data=data)

    assert data == {"kind": "chat"}


def test_build_fcm_message_sets_android_ttl_and_normal_priority_by_default() -> None:
    assert _message()["android"] == {"ttl": "3600s", "priority": "NORMAL"}


def test_build_fcm_message_maps_high_urgency_to_high_priority() -> None:
    message = _message(urgency="high")

    assert message["android"]["priority"] == "HIGH"
    assert message["apns"]["headers"]["apns-priority"] == "10"
    assert message["webpush"]["headers"]["Urgency"] == "high"


def test_build_fcm_message_sets_apns_expiration_from_the_ttl() -> None:
    headers = _message(ttl=600)["apns"]["headers"]

    assert headers == {"apns-expiration": str(int(NOW) + 600), "apns-priority": "5"}


def test_build_fcm_message_uses_the_collapse_key_everywhere_it_fits() -> None:
    message = _message(collapse_key="chat-42")

    assert message["android"]["collapse_key"] == "chat-42"
    assert message["apns"]["headers"]["apns-collapse-id"] == "chat-42"
    # The Web Push Topic is a 32-character digest of the key, which Apple's service accepts.
    assert message["webpush"]["headers"]["Topic"] == "Gt4cE03HtdpoUGEJ6U6jz632ggW6J1v8"


def test_build_fcm_message_sends_a_topic_apple_can_decode_for_any_collapse_key() -> None:
    message = _message(collapse_key="abcde")  # 5 characters: 1 mod 4, BadWebPushTopic

    assert message["android"]["collapse_key"] == "abcde"
    assert message["apns"]["headers"]["apns-collapse-id"] == "abcde"
    assert len(message["webpush"]["headers"]["Topic"]) == 32


def test_build_fcm_message_omits_an_apns_collapse_id_over_64_bytes() -> None:
    message = _message(collapse_key="k" * 65)

    assert "apns-collapse-id" not in message["apns"]["headers"]


def test_build_fcm_message_sets_webpush_ttl() -> None:
    assert _message(ttl=120)["webpush"]["headers"] == {"TTL": "120"}


def test_build_fcm_message_links_an_https_url() -> None:
    message = _message(url="https://app.test/chat/42")

    assert message["webpush"]["fcm_options"] == {"link": "https://app.test/chat/42"}


def test_build_fcm_message_does_not_link_a_plain_http_url() -> None:
    assert "fcm_options" not in _message(url="http://app.test/chat/42")["webpush"]
