"""One push to one device: the job's message in the form its channel takes, through the
container's provider senders."""

from __future__ import annotations

import asyncio

from pushgate import clock
from pushgate.delivery import faults
from pushgate.delivery.app_keys import AppKeys
from pushgate.delivery.runtime import Runtime
from pushgate.devices.addresses import FcmAddress, NtfyAddress, PushAddress, WebPushAddress
from pushgate.managed_ntfy import config as managed_ntfy
from pushgate.notifications.models import DeliveryJob
from pushgate.providers import FcmMessage, Outcome


async def send(rt: Runtime, job: DeliveryJob, app: AppKeys, address: PushAddress) -> Outcome:
    """Send once; never raises for what the provider or the network answered."""
    faults.before_send()  # a no-op outside the local stack's fault-injection runs
    message = job.message
    remaining_ttl = max(0, int(job.expires_at - clock.epoch()))
    if isinstance(address, FcmAddress):
        if app.fcm_account is None:
            return Outcome.failed("fcm:not_configured")
        return await rt.fcm.send(
            app.fcm_account,
            address.token,
            FcmMessage(
                notification_id=job.notification_id,
                title=message.title,
                body=message.body,
                data=message.data or {},
                image=message.image,
                url=message.url,
                collapse_key=message.collapse_key,
                urgency=message.urgency,
                ttl=remaining_ttl,
            ),
        )
    if isinstance(address, WebPushAddress):
        if app.vapid_key is None:
            return Outcome.failed("webpush:no_vapid_key")
        return await rt.webpush.send(
            endpoint=address.endpoint,
            p256dh=address.p256dh,
            auth=address.auth,
            payload=message.webpush_payload(job.notification_id),
            ttl=remaining_ttl,
            urgency=message.urgency,
            topic=message.collapse_key,
            vapid_key=app.vapid_key,
            vapid_subject=app.vapid_subject,
        )
    if isinstance(address, NtfyAddress):
        token = address.token
        if address.managed:  # a blocking read of the secret, at most every 5 minutes
            token = await asyncio.to_thread(managed_ntfy.publish_token)
        return await rt.ntfy.send(
            url=address.url,
            access_token=token,
            title=message.title,
            body=message.body,
            click_url=message.url,
            urgency=message.urgency,
            tags=None,
        )
    return Outcome.failed("unknown_channel")
