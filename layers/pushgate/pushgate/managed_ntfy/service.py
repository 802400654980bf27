"""A user's managed private ntfy channel: made (or found, or finished when a call before it
stopped half way), shown to its owner, tested, removed.

Making one is five steps: record it (`provisioning`, with its generated account and topic),
create the ntfy account, grant it `read-only` on the topic, register the topic as the user's
device (published to with the deployment's publisher token, whose `write-only` grant covers
`pg_*`), and mark it `active`. Every step can be repeated without harm, so a crash between two
is repaired by the next call; a step that fails takes back the ones before it (503
`ntfy_unavailable`). Removing is the same in reverse, from `removing`.
"""

from __future__ import annotations

import contextlib
import secrets
import string
import time

from pushgate import clock
from pushgate.auth import Principal
from pushgate.devices.addresses import NtfyAddress
from pushgate.devices.identity import device_id_for
from pushgate.devices.service import remove_device, upsert_device
from pushgate.errors import NotFoundError
from pushgate.managed_ntfy import config, removals
from pushgate.managed_ntfy.admin import NtfyAdmin, NtfyAdminError, NtfyUnreachableError
from pushgate.managed_ntfy.config import NtfyUnavailableError
from pushgate.managed_ntfy.models import NtfyChannelResponse
from pushgate.notifications.models import MessageContent
from pushgate.notifications.service import Recipient, accept
from pushgate.observability import logger
from pushgate.policy import require_app_user
from pushgate.rate_limits import require_slot
from pushgate.sealing import get_cipher
from pushgate.storage import devices as registry
from pushgate.storage import ntfy_channels
from pushgate.storage.ntfy_channels import Channel, channel_key

# A user may set up (or repair) a channel this many times per app per hour, and test it this
# many times.
PROVISIONS_PER_HOUR = 5
TESTS_PER_HOUR = 10
_ALPHABET = string.ascii_lowercase + string.digits
TOPIC_RANDOM_CHARACTERS = 32  # of 36 symbols: 165 bits
USERNAME_RANDOM_CHARACTERS = 24
PASSWORD_BYTES = 24  # 32 characters of base64url, well within bcrypt's 72 bytes
TEST_MESSAGE = MessageContent(
    title="Test notification", body="pushgate reaches you on this ntfy channel"
)
DEVICE_LABEL = "pushgate managed ntfy channel"
# An app's channels are removed a page at a time, within a budget that leaves the cleanup
# function (60 s) room for one more removal's admin calls.
REMOVAL_PAGE = 100
REMOVAL_BUDGET_SECONDS = 30.0


def enable(principal: Principal, app_id: str) -> tuple[NtfyChannelResponse, bool]:
    """The caller's channel in the app: made now (True), or as it was (False)."""
    server = config.server()
    require_app_user(principal, app_id)
    key = channel_key(app_id, principal.issuer, principal.subject)
    channel = ntfy_channels.get(key)
    if channel is not None and channel.state == "active":
        return _response(channel), False
    require_slot(f"ntfyrate#{key}", limit=PROVISIONS_PER_HOUR, what="channel set-ups")
    if channel is not None and channel.state == "removing":
        _remove(channel)  # finish what a removal started, then start afresh
        channel = None
    if channel is None:
        channel = _record_new(key, app_id, principal)
    return _provision(channel, server), True


def get(principal: Principal, app_id: str) -> NtfyChannelResponse:
    config.server()
    require_app_user(principal, app_id, active=False)
    return _response(_active(app_id, principal))


def test(principal: Principal, app_id: str) -> str:
    """Send a test notification to the channel only (counted against the app's quota)."""
    config.server()
    require_app_user(principal, app_id)
    channel = _active(app_id, principal)
    require_slot(f"ntfytest#{channel.channel_key}", limit=TESTS_PER_HOUR, what="tests")
    device_ids = [channel.device_id] if channel.device_id else []
    return accept(app_id, [Recipient(principal.subject, TEST_MESSAGE, device_ids=device_ids)])[0]


def disable(principal: Principal, app_id: str) -> None:
    """Remove the caller's channel: its grant, its account, its device."""
    config.server()
    require_app_user(principal, app_id, active=False)
    channel = ntfy_channels.get(channel_key(app_id, principal.issuer, principal.subject))
    if channel is None:
        raise NotFoundError("there is no ntfy channel to remove", code="ntfy_channel_not_found")
    _remove(channel)


def remove_of_app(app_id: str, *, before: str) -> tuple[int, bool]:
    """Remove the app's channels made before `before` (in the background, after its
    disable), for at most REMOVAL_BUDGET_SECONDS: (how many, whether some may remain)."""
    started = time.monotonic()
    channels, more = ntfy_channels.of_app(app_id, limit=REMOVAL_PAGE)
    removed = 0
    for channel in channels:
        if time.monotonic() - started > REMOVAL_BUDGET_SECONDS:
            return removed, True
        if channel.created_at < before:
            _remove(channel)
            removed += 1
    return removed, more


def remove_one(key: str) -> None:
    """Remove one channel if it still exists (in the background, after its device went)."""
    channel = ntfy_channels.get(key)
    if channel is not None:
        _remove(channel)


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def password_binding(key: str) -> str:
    return f"ntfy_channels/{key}/password"


def _admin() -> NtfyAdmin:
    return NtfyAdmin(config.server().url, config.admin_token())


def _active(app_id: str, principal: Principal) -> Channel:
    channel = ntfy_channels.get(channel_key(app_id, principal.issuer, principal.subject))
    if channel is None or channel.state != "active":
        raise NotFoundError(
            "there is no ntfy channel; POST to make one", code="ntfy_channel_not_found"
        )
    return channel


def _record_new(key: str, app_id: str, principal: Principal) -> Channel:
    now = clock.rfc3339()
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    channel = Channel(
        channel_key=key,
        app_id=app_id,
        owner_issuer=principal.issuer,
        user_id=principal.subject,
        username=f"pgu_{_random(USERNAME_RANDOM_CHARACTERS)}",
        password_sealed=get_cipher().seal(password.encode(), binding=password_binding(key)),
        topic=f"{config.TOPIC_PREFIX}{_random(TOPIC_RANDOM_CHARACTERS)}",
        device_id=None,
        state="provisioning",
        created_at=now,
        updated_at=now,
    )
    if ntfy_channels.create(channel):
        return channel
    existing = ntfy_channels.get(key)  # a concurrent call recorded one first: continue it
    if existing is None:
        raise NtfyUnavailableError("the channel is being changed concurrently; try again")
    return existing


def _provision(channel: Channel, server: config.NtfyServer) -> NtfyChannelResponse:
    done: list[str] = []
    try:
        admin = _admin()
        admin.put_user(channel.username, _password(channel))
        done.append("account")
        admin.grant(channel.username, channel.topic, "read-only")
        done.append("grant")
        registration = upsert_device(
            app_id=channel.app_id,
            user_id=channel.user_id,
            platform="ntfy",
            address=_address(server, channel),
            owner=channel.owner_issuer,
            user_agent=DEVICE_LABEL,
        )
        done.append("device")
        now = clock.rfc3339()
        device_id = registration.device_id
        if not ntfy_channels.set_state(channel.channel_key, "active", now=now, device_id=device_id):
            raise NtfyUnavailableError("the channel was removed meanwhile")
    except Exception as exc:  # any step, the ntfy server's or ours: take the others back
        logger.warning(
            "ntfy channel set-up failed; taking it back",
            extra={"app_id": channel.app_id, "steps_done": done, "error": type(exc).__name__},
        )
        _undo(channel)
        raise NtfyUnavailableError(
            "the ntfy channel could not be set up; nothing was kept, try again"
        ) from None
    return _response(ntfy_channels.get(channel.channel_key) or channel)


def _undo(channel: Channel) -> None:
    """Take back a set-up that failed; when even that fails, the channel stays `removing` and
    the cleanup worker finishes it (or the user's next call does, whichever comes first)."""
    try:
        _remove(channel)
    except Exception:
        logger.warning(
            "ntfy channel could not be taken back now; its removal is queued",
            extra={"app_id": channel.app_id},
        )
        removals.request_removal(channel.app_id, channel.channel_key)


def _remove(channel: Channel) -> None:
    """Grant, account, device, record: each step harmless to repeat. 503 when the ntfy server
    cannot do its part (the channel then stays `removing`)."""
    key = channel.channel_key
    ntfy_channels.set_state(key, "removing", now=clock.rfc3339())
    try:
        admin = _admin()
        # No such account or entry any more is not a failure: deleting the account takes its
        # grants anyway (ntfy answers 500, not 400, for an unknown user here).
        with contextlib.suppress(NtfyAdminError):
            admin.revoke(channel.username, channel.topic)
        admin.delete_user(channel.username)
    except (NtfyAdminError, NtfyUnreachableError) as exc:
        logger.warning(
            "ntfy channel removal failed", extra={"app_id": channel.app_id, "error": str(exc)}
        )
        raise NtfyUnavailableError(
            "the ntfy server could not remove the channel; try again"
        ) from None
    device = registry.get(channel.device_id) if channel.device_id else _device_of(channel)
    if device is not None:
        remove_device(device)
    ntfy_channels.delete(key)


def _address(server: config.NtfyServer, channel: Channel) -> NtfyAddress:
    return NtfyAddress(server.topic_url(channel.topic), managed=True)


def _device_of(channel: Channel) -> registry.Device | None:
    """The channel's device when its record never learnt the id (a stop before `active`)."""
    try:
        address = _address(config.server(), channel)
    except NotFoundError:
        return None
    return registry.get(device_id_for(channel.app_id, address.identity))


def _password(channel: Channel) -> str:
    sealed = channel.password_sealed
    return get_cipher().open(sealed, binding=password_binding(channel.channel_key)).decode()


def _response(channel: Channel) -> NtfyChannelResponse:
    server = config.server()
    return NtfyChannelResponse(
        device_id=channel.device_id or "",
        server_url=server.url,
        topic=channel.topic,
        topic_url=server.topic_url(channel.topic),
        username=channel.username,
        password=_password(channel),
        created_at=channel.created_at,
    )
