"""Interaction reports (docs/interactions.md): a device POSTs its notification's interactions
URL when it shows the notification and when the user taps it. The first display and the
first click of each device are kept (conditional writes, so concurrent reports record each
once), a click implies a display, and each first event becomes one signed receipt
(`type: "interaction"`). Later reports answer what was recorded and change nothing.

Not audited: a report changes no configuration and no one's data, only adds what a device
observed (the metrics `InteractionsDisplayed` and `InteractionsClicked` count them).
"""

from __future__ import annotations

from pushgate import clock
from pushgate.errors import NotFoundError
from pushgate.interactions import capabilities
from pushgate.interactions.models import InteractionEvent, InteractionReport, InteractionResponse
from pushgate.notifications.service import find
from pushgate.observability import logger, metrics
from pushgate.queues import OutgoingMessage, send_all
from pushgate.rate_limits import require_slot
from pushgate.receipts.models import InteractionReceipt, ReceiptMessage
from pushgate.settings import get_settings
from pushgate.storage import apps, devices, notifications
from pushgate.storage.notifications import RETENTION_SECONDS, Interaction, Notification

# Reports one notification's URLs take per hour: a display and a click from each device it
# can reach, and a few spare (retries; forged tokens spend them too, and spending them can
# only keep reports of that one notification out).
REPORTS_PER_DEVICE = 2
SPARE_REPORTS = 10
_NOT_FOUND = "no such interactions URL"


def report(notification_id: str, token: str, event: InteractionReport) -> InteractionResponse:
    """Record what an interactions URL's device reports. A token that is not this
    notification's and this device's is 404, like one for a notification that does not
    exist."""
    claimed = capabilities.claim(token)
    found = find(notification_id) if claimed is not None else None
    if claimed is None or found is None:
        raise NotFoundError(_NOT_FOUND, code="interaction_not_found")
    require_slot(
        f"interact#{notification_id}",
        limit=REPORTS_PER_DEVICE * get_settings().max_devices_per_user + SPARE_REPORTS,
        what="interaction reports for one notification",
    )
    if not capabilities.holds(capabilities.notification_key(notification_id), claimed):
        logger.warning("interaction token refused", extra={"notification_id": notification_id})
        raise NotFoundError(_NOT_FOUND, code="interaction_not_found")
    device_id = claimed.device_id
    recorded, firsts = _record(notification_id, device_id, event)
    if firsts:
        _announce(found, device_id, recorded, firsts)
    return InteractionResponse(
        notification_id=notification_id,
        device_id=device_id,
        displayed_at=recorded.displayed_at,
        clicked_at=recorded.clicked_at,
        clicked_action=recorded.clicked_action,
    )


def _record(
    notification_id: str, device_id: str, event: InteractionReport
) -> tuple[Interaction, list[InteractionEvent]]:
    """Write what is new (a click first records the display it implies); returns what is
    recorded now and the events this report was the first of."""
    now = clock.epoch()
    at, expires_at = clock.rfc3339(now), int(now) + RETENTION_SECONDS
    recorded = notifications.get_interaction(notification_id, device_id)
    firsts: list[InteractionEvent] = []
    if recorded.displayed_at is None:
        won = notifications.record_display(notification_id, device_id, at=at, expires_at=expires_at)
        if won is not None:
            firsts.append("displayed")
        recorded = won or notifications.get_interaction(notification_id, device_id)
    if event.event == "clicked" and recorded.clicked_at is None:
        won = notifications.record_click(
            notification_id, device_id, at=at, action=event.action, expires_at=expires_at
        )
        if won is not None:
            firsts.append("clicked")
        recorded = won or notifications.get_interaction(notification_id, device_id)
    return recorded, firsts


def _announce(
    found: Notification, device_id: str, recorded: Interaction, firsts: list[InteractionEvent]
) -> None:
    """Count the first events and queue their receipts, for apps with an active webhook.
    The events stay recorded when the queue refuses (logged): the status still shows them."""
    for event in firsts:
        if event == "displayed":
            metrics.add_metric(name="InteractionsDisplayed", unit="Count", value=1)
        else:
            metrics.add_metric(name="InteractionsClicked", unit="Count", value=1)
    app = apps.get(found.app_id, fields=["webhook_url", "webhook_disabled_at"])
    if app is None or not app.webhook_url or app.webhook_disabled_at:
        return
    platform = _platform(found, device_id)
    messages = [
        OutgoingMessage(
            str(index),
            ReceiptMessage(
                receipt=InteractionReceipt(
                    notification_id=found.notification_id,
                    app_id=found.app_id,
                    user_id=found.user_id,
                    device_id=device_id,
                    platform=platform,
                    event=event,
                    action=recorded.clicked_action if event == "clicked" else None,
                    timestamp=(recorded.clicked_at if event == "clicked" else recorded.displayed_at)
                    or clock.rfc3339(),
                )
            ).model_dump_json(),
        )
        for index, event in enumerate(firsts)
    ]
    if send_all(get_settings().receipt_queue_url, messages):
        logger.error(
            "interaction receipts not queued",
            extra={"notification_id": found.notification_id, "device_id": device_id},
        )


def _platform(found: Notification, device_id: str) -> str:
    """The device's platform: from its delivery outcome, or (a report that came before the
    outcome was written) from the registry; `unknown` for a device removed since."""
    entry = found.deliveries.get(device_id)
    if entry is not None:
        return str(entry.get("platform", "unknown"))
    device = devices.get(device_id)
    return device.platform if device is not None else "unknown"
