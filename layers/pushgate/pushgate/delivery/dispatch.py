"""One push to one device: the job's message in the form its channel takes, through the
container's provider senders. Every Web Push and FCM push of a tenant's notification carries
the device's interactions URL (pushgate.interactions); ntfy cannot report back."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from pushgate import clock
from pushgate.approvals import push as approval_push
from pushgate.approvals.capabilities import approval_key
from pushgate.delivery import faults
from pushgate.delivery.app_keys import AppKeys
from pushgate.delivery.runtime import Runtime
from pushgate.devices.addresses import FcmAddress, NtfyAddress, PushAddress, WebPushAddress
from pushgate.interactions import push as interactions
from pushgate.interactions.capabilities import cached_notification_key, notification_key
from pushgate.managed_ntfy import config as managed_ntfy
from pushgate.notifications.models import DeliveryJob, encode_payload
from pushgate.providers import FcmInteractive, FcmMessage, Outcome
from pushgate.settings import get_settings

# An approval's MAC key, derived in KMS once per container for all its devices and retries.
_approval_key = lru_cache(maxsize=1024)(approval_key)


async def send(
    rt: Runtime, job: DeliveryJob, app: AppKeys, address: PushAddress, device_id: str
) -> Outcome:
    """Send once; never raises for what the provider or the network answered."""
    faults.before_send()  # a no-op outside the local stack's fault-injection runs
    decisions = await _decision_urls(job, device_id)
    if isinstance(address, FcmAddress):
        if app.fcm_account is None:
            return Outcome.failed("fcm:not_configured")
        message = _fcm_message(job, decisions, await _interactions_url(job, device_id))
        return await rt.fcm.send(app.fcm_account, address.token, message)
    if isinstance(address, WebPushAddress):
        if app.vapid_key is None:
            return Outcome.failed("webpush:no_vapid_key")
        if job.approval is None:
            document = job.message.webpush_document(job.notification_id)
        else:
            document = approval_push.webpush_document(job, job.approval, decisions)
        if (url := await _interactions_url(job, device_id)) is not None:
            document[interactions.WEBPUSH_FIELD] = url
        payload = encode_payload(document)
        return await rt.webpush.send(
            endpoint=address.endpoint,
            p256dh=address.p256dh,
            auth=address.auth,
            payload=payload,
            ttl=_remaining_ttl(job),
            urgency=job.message.urgency,
            topic=job.message.collapse_key,
            vapid_key=app.vapid_key,
            vapid_subject=app.vapid_subject,
        )
    if isinstance(address, NtfyAddress):
        token = address.token
        if address.managed:  # a blocking read of the secret, at most every 5 minutes
            token = await asyncio.to_thread(managed_ntfy.publish_token)
        actions = approval_push.ntfy_actions(job.approval, decisions) if decisions else []
        return await rt.ntfy.send(
            url=address.url,
            access_token=token,
            title=job.message.title,
            body=job.message.body,
            click_url=job.message.url,
            urgency=job.message.urgency,
            tags=None,
            actions=actions,
        )
    return Outcome.failed("unknown_channel")


def _remaining_ttl(job: DeliveryJob) -> int:
    return max(0, int(job.expires_at - clock.epoch()))


async def _decision_urls(job: DeliveryJob, device_id: str) -> dict[str, str]:
    """The device's decision URLs when the job is an approval with buttons, else none."""
    if job.approval is None or not job.approval.actions:
        return {}
    key = await asyncio.to_thread(_approval_key, job.approval.approval_id)
    base_url = get_settings().public_api_url.rstrip("/")
    return approval_push.decision_urls(base_url, job.approval, key, device_id)


async def _interactions_url(job: DeliveryJob, device_id: str) -> str | None:
    """The URL the device reports its display and click to; none for pushgate's own pushes
    (an approval's replacement), whose outcomes the tenant does not hear of."""
    if not job.receipts:
        return None
    # A KMS call the first time in a container (off the event loop), then computed here.
    key = cached_notification_key(job.notification_id) or await asyncio.to_thread(
        notification_key, job.notification_id
    )
    base_url = get_settings().public_api_url.rstrip("/")
    return interactions.interactions_url(base_url, job.notification_id, key, device_id)


def _fcm_message(
    job: DeliveryJob, decisions: dict[str, str], interactions_url: str | None
) -> FcmMessage:
    message, approval = job.message, job.approval
    data = dict(message.data or {})
    if interactions_url is not None:
        data[interactions.FCM_DATA_KEY] = interactions_url
    interactive = None
    if approval is not None:
        data |= approval_push.fcm_data(approval, decisions)
        if decisions:
            web_actions = tuple(approval_push.fcm_web_actions(approval))
            interactive = FcmInteractive(approval_push.IOS_CATEGORY, web_actions)
    return FcmMessage(
        notification_id=job.notification_id,
        title=message.title,
        body=message.body,
        data=data,
        image=message.image,
        url=message.url,
        collapse_key=message.collapse_key,
        urgency=message.urgency,
        ttl=_remaining_ttl(job),
        tag=approval.approval_id if approval is not None else None,
        interactive=interactive,
    )
