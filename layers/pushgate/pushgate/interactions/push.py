"""How a push carries its interactions URL (docs/interactions.md): the Web Push payload's
`interactions` field, the FCM message's `interactions_url` data field; ntfy none (its app
reports nothing back)."""

from __future__ import annotations

from pushgate.capabilities import MAX_BASE_URL_LENGTH
from pushgate.interactions.capabilities import TOKEN_LENGTH, interaction_token

WEBPUSH_FIELD = "interactions"
FCM_DATA_KEY = "interactions_url"
_PATH = "/push/notifications/{notification_id}/interactions/{token}"
# The longest an interactions URL gets (a notification id is 30 characters), for the size
# checks of what a push must hold.
MAX_URL_LENGTH = MAX_BASE_URL_LENGTH + len(
    _PATH.format(notification_id="n" * 30, token="t" * TOKEN_LENGTH)
)
LONGEST_URL = "x" * MAX_URL_LENGTH


def interactions_url(base_url: str, notification_id: str, key: bytes, device_id: str) -> str:
    """The URL the device reports its display and click of the notification to."""
    token = interaction_token(key, device_id)
    return base_url + _PATH.format(notification_id=notification_id, token=token)
