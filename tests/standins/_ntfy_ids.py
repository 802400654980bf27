"""ntfy's random IDs (util.RandomString): message IDs and action IDs."""

from __future__ import annotations

import secrets
import string

RANDOM_CHARACTERS = string.ascii_letters + string.digits
MESSAGE_ID_LENGTH = 12  # server/types.go messageIDLength
ACTION_ID_LENGTH = 10  # server/actions.go actionIDLength


def random_string(length: int) -> str:
    return "".join(secrets.choice(RANDOM_CHARACTERS) for _ in range(length))


def is_message_id(text: str) -> bool:
    """validMessageID: twelve of util.RandomString's characters."""
    return len(text) == MESSAGE_ID_LENGTH and set(text) <= set(RANDOM_CHARACTERS)
