"""What a takos notification event becomes: title by type, body, data and link; and how long
its id is remembered, events too old or from the future refused."""

from __future__ import annotations

import pytest

from pushgate.errors import SignatureError
from pushgate.takos import events
from pushgate.takos.models import TakosNotification

NOW = 1_800_000_000.0
ORIGIN = "https://social.example"


def _notification(**fields) -> TakosNotification:
    return TakosNotification.model_validate({"id": "n-1", "type": "comment"} | fields)


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("comment", "New comment"),
        ("follow_request", "New follow request"),
        ("mention", "You were mentioned"),
        ("test", "Test notification"),
        ("something_new", "New notification"),
    ],
)
def test_message_title_comes_from_the_type(kind, title):
    assert events.message_for(_notification(type=kind), ORIGIN).title == title


def test_message_body_is_the_message_and_data_its_string_fields():
    message = events.message_for(
        _notification(
            user_id="u-1",
            actor_id=None,
            ref_type="post",
            ref_id="p 1/2",
            message="  Carol commented  ",
            created_at="2026-12-01T09:00:00.123Z",
            read=0,
            data_json={"x": "y"},
            extra="kept, but not sent",
        ),
        ORIGIN,
    )
    assert message.body == "Carol commented"
    assert message.data == {
        "takos_notification_id": "n-1",
        "type": "comment",
        "user_id": "u-1",
        "ref_type": "post",
        "ref_id": "p 1/2",
        "created_at": "2026-12-01T09:00:00.123Z",
    }
    assert message.url == "https://social.example/posts/p%201%2F2"


def test_message_body_is_cut_at_the_limit():
    body = events.message_for(_notification(message="x" * 3000), ORIGIN).body
    assert len(body) == events.MAX_BODY_CHARACTERS
    assert body.endswith("…")


@pytest.mark.parametrize(
    ("ref_type", "ref_id", "link"),
    [
        ("user", "alice", "https://social.example/@alice"),
        ("community", "c9", "https://social.example/c/c9"),
        ("story", "s1", "https://social.example/stories/s1"),
        ("post", None, None),
        ("unknown", "x", None),
        (None, "x", None),
    ],
)
def test_link_is_built_from_what_the_notification_refers_to(ref_type, ref_id, link):
    notification = _notification(ref_type=ref_type, ref_id=ref_id)
    assert events.link_for(notification, ORIGIN + "/") == link


def test_claim_expiry_keeps_an_event_id_until_it_is_too_old_anyway():
    created = NOW - 30
    expiry = events.claim_expiry(_notification(created_at=created), now=NOW)
    assert expiry == int(created) + events.MAX_EVENT_AGE_SECONDS + 60
    undated = events.claim_expiry(_notification(), now=NOW)
    assert undated == int(NOW) + events.UNDATED_EVENT_MEMORY_SECONDS


@pytest.mark.parametrize(("offset", "code"), [(-601, "expired"), (+61, "not_yet_valid")])
def test_claim_expiry_refuses_events_outside_their_ten_minutes(offset, code):
    with pytest.raises(SignatureError) as refused:
        events.claim_expiry(_notification(created_at=NOW + offset), now=NOW)
    assert (refused.value.status, refused.value.code) == (401, code)
