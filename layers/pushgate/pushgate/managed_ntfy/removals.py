"""Removals of managed ntfy channels that happen in the background: every channel of an app
that was disabled, or the channel whose device was deleted. Queued here, done by the cleanup
worker (`pushgate.managed_ntfy.handler`), retried by SQS, dead-lettered with an alarm."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pushgate import clock
from pushgate.errors import PushgateError
from pushgate.observability import logger
from pushgate.queues import OutgoingMessage, send_all
from pushgate.settings import get_settings
from pushgate.storage import ntfy_channels
from pushgate.storage.devices import Device


class RemovalRequest(BaseModel):
    """One cleanup message: the one channel under `channel_key`, or else the app's channels
    made before `before` (an app disabled and enabled again keeps the channels made since)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    app_id: str
    channel_key: str | None = None
    before: str | None = None


class RemovalNotQueuedError(PushgateError):
    """The cleanup queue refused the request: the change that asked for it stands, and
    repeating the request queues the removal."""

    status = 503
    default_code = "queue_unavailable"


def request_removal(
    app_id: str, channel_key: str | None = None, *, before: str | None = None
) -> None:
    """Queue the removal of one channel, or of the app's channels made before `before` (now
    when not given). Nothing to do when the deployment has no managed ntfy."""
    settings = get_settings()
    if not settings.ntfy_server_url or not settings.ntfy_cleanup_queue_url:
        return
    if channel_key is None and before is None:
        before = clock.rfc3339()
    request = RemovalRequest(app_id=app_id, channel_key=channel_key, before=before)
    body = request.model_dump_json(exclude_none=True)
    if send_all(settings.ntfy_cleanup_queue_url, [OutgoingMessage("0", body)]):
        logger.error("ntfy channel removal could not be queued", extra={"app_id": app_id})
        raise RemovalNotQueuedError("the ntfy channel removal could not be queued; try again")


def request_removal_of_device(device: Device) -> None:
    """Queue the removal of the managed channel `device` is, if it is one (its user deleted
    it: the account and grant must not stay behind)."""
    settings = get_settings()
    if device.platform != "ntfy" or not settings.ntfy_server_url:
        return
    key = ntfy_channels.channel_key(device.app_id, device.owner_issuer, device.user_id)
    channel = ntfy_channels.get(key)
    if channel is not None and channel.device_id == device.device_id:
        request_removal(device.app_id, key)
