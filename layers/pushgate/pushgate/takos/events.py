"""What a takos instance's notification event becomes: a push with a title for its type, the
instance's message as the body, its string fields as data, and a link built from what it
refers to. (The wire format itself is validated in `pushgate.takos.models`.)"""

from __future__ import annotations

from urllib.parse import quote

from pushgate.errors import SignatureError
from pushgate.notifications.models import MessageContent
from pushgate.takos.models import TakosNotification
from pushgate.takos.signing import MAX_CLOCK_SKEW_SECONDS, parse_timestamp

# takos' notification types (its API documentation and code), and the default for others.
TITLES = {
    "follow": "New follower",
    "follow_request": "New follow request",
    "follow_accepted": "Follow request accepted",
    "follow_rejected": "Follow request declined",
    "like": "New reaction",
    "reaction": "New reaction",
    "comment": "New comment",
    "reply": "New reply",
    "mention": "You were mentioned",
    "repost": "Your post was shared",
    "community_invite": "Community invitation",
    "dm": "New message",
    "message": "New message",
    "test": "Test notification",
}
DEFAULT_TITLE = "New notification"
# Where a notification about a `ref_type` opens, on the instance (the takos web app's routes).
LINKS = {
    "post": "/posts/{id}",
    "user": "/@{id}",
    "community": "/c/{id}",
    "story": "/stories/{id}",
}
# The body is the instance's message, cut to this many characters ("…" marks a cut).
MAX_BODY_CHARACTERS = 1000
# The string fields that become data (takos' id under a name of its own: `notification_id`
# is pushgate's).
DATA_FIELDS = {
    "id": "takos_notification_id",
    "type": "type",
    "user_id": "user_id",
    "actor_id": "actor_id",
    "ref_type": "ref_type",
    "ref_id": "ref_id",
    "created_at": "created_at",
}
# An event older than this is refused: takos sends it once, as it happens.
MAX_EVENT_AGE_SECONDS = 600
# Without created_at (takos' test event) a replay is refused for as long as notifications
# are kept.
UNDATED_EVENT_MEMORY_SECONDS = 30 * 86_400


def message_for(notification: TakosNotification, origin: str) -> MessageContent:
    """The push for `notification`; `origin` is the instance's web address."""
    body = (notification.message or "").strip()
    if len(body) > MAX_BODY_CHARACTERS:
        body = body[: MAX_BODY_CHARACTERS - 1].rstrip() + "…"
    fields = notification.model_dump(include=set(DATA_FIELDS))
    data = {DATA_FIELDS[k]: v for k, v in fields.items() if isinstance(v, str) and v}
    return MessageContent(
        title=TITLES.get(notification.type, DEFAULT_TITLE),
        body=body,
        data=data or None,
        url=link_for(notification, origin),
    )


def link_for(notification: TakosNotification, origin: str) -> str | None:
    """The instance page the notification is about, when its `ref_type` has one."""
    template = LINKS.get(notification.ref_type or "")
    if template is None or not notification.ref_id:
        return None
    return origin.rstrip("/") + template.format(id=quote(notification.ref_id, safe=""))


def claim_expiry(notification: TakosNotification, *, now: float) -> int:
    """Until when the event's id must be remembered, refusing an event that is too old or
    from the future (401 `expired`, `not_yet_valid`): an event is good for
    MAX_EVENT_AGE_SECONDS after its `created_at`."""
    if notification.created_at is None:
        return int(now) + UNDATED_EVENT_MEMORY_SECONDS
    created = parse_timestamp(notification.created_at, "notification.created_at")
    if created > now + MAX_CLOCK_SKEW_SECONDS:
        raise SignatureError("notification.created_at is in the future", code="not_yet_valid")
    if now - created > MAX_EVENT_AGE_SECONDS:
        raise SignatureError(
            f"notification.created_at is more than {MAX_EVENT_AGE_SECONDS} seconds ago",
            code="expired",
        )
    return int(created) + MAX_EVENT_AGE_SECONDS + MAX_CLOCK_SKEW_SECONDS
